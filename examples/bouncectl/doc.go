// Command bouncectl is an operator CLI over a bouncekit database: the bstore
// file a mail server using bouncekit keeps its queue, retired messages,
// suppression lists, webhooks and hold rules in.
//
// Usage:
//
//	bouncectl [-db PATH] [-json] [-utc] [-lock-timeout 1s] <group> <command> [flags] [args]
//
// Commands:
//
//	queue list                    queued messages, with filters
//	queue show ID                 one queued message with its delivery attempts
//	queue hold|release            hold or release matching messages
//	queue fail                    fail matching messages permanently: DSN to the sender
//	queue cancel                  remove matching messages without a DSN
//	retired list                  messages that left the queue, newest first, paginated
//	retired show ID               one retired message
//	suppression list|export       suppression entries as a table, JSON or CSV
//	suppression add|remove ADDR…  add or remove entries by hand
//	suppression import FILE       read a CSV file ("-": standard input)
//	hooks list|retired            pending and retired webhooks
//	hooks cancel|retry            cancel pending webhooks, or make them due now
//	holdrules list|add|remove     rules that hold new and queued messages
//
// Every command takes -h. Flags come before positional arguments. Commands
// that act on a selection of queued messages or webhooks need at least one
// filter, or -all, so a forgotten flag cannot touch everything.
//
// Times given to flags such as -due-before are RFC 3339
// ("2025-03-04T09:00:00Z"), a date or date and time in the local zone (or
// UTC with -utc: "2025-03-04", "2025-03-04 09:00"), "now", or a duration
// relative to now ("-2h", "+30m", "90m").
//
// # Output
//
// Tables are aligned for people. With -json (a global flag, or a flag of
// every command except suppression export) commands print JSON: lists as an
// array or, when paginated, as {"Items": [...], "Next": cursor}; records as
// stored; changes as a small summary object. Notes such as "more results:
// -cursor 17" go to standard error, so standard output stays parsable.
//
// # Exit codes
//
//	0  success; an empty listing is a success
//	1  error: I/O, database, bad file content
//	2  usage: unknown command, bad flag or argument
//	3  not found: the ID, address or selection named matched nothing;
//	   nothing was changed
//	4  the database is locked by another process, usually the running
//	   mail server; bstore allows one process at a time
//
// # Database access
//
// The database must exist. Commands that only read use a read transaction;
// bstore has no read-only open mode, so opening still takes the file's
// exclusive lock, and registers the current schema (bstore upgrades an
// older schema on open, as the server itself would). While a server has the
// database open, every command fails with exit code 4 after -lock-timeout.
//
// Commands that write use the library's own functions in one transaction:
// queue.SetHold, queue.Handler.CancelMsgs and FailMsgs, queue.AddHoldRule,
// suppression.Store and hookqueue.Queue. The CLI does not know the host's
// per-account settings: messages failed or canceled here are kept as
// retired for -keep (default 7 days) and queue no webhooks; the DSN of
// queue fail waits in the database's DSN outbox until the server's
// Handler.Run delivers it. The suppression commands use the default
// normalizer unless -separators or -dotless-domains say otherwise; pass the
// host's settings so base addresses match.
package main
