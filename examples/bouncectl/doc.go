// Command bouncectl is an operator CLI over a bouncekit database: the bstore
// file a mail server using bouncekit keeps its queue, retired messages,
// suppression lists, webhooks and hold rules in, or, with -url, the running
// server's HTTP API (package webapi).
//
// Usage:
//
//	bouncectl -db PATH [-json] [-utc] [-lock-timeout 1s] <group> <command> [flags] [args]
//	bouncectl -url URL [-credentials FILE] [-timeout 1m] [-json] [-utc] <group> <command> [flags] [args]
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
//	5  the file is not a bouncekit database (another program's bstore
//	   file, or not a bstore file at all); nothing was changed
//	6  with -url: the server refused the credentials (or too many failed
//	   logins came from this address), or the request ("forbidden")
//
// With -url, a request the server refuses as malformed exits 2 and a
// "notFound" answer exits 3, as in file mode.
//
// # Database access
//
// The database must exist and hold every bouncekit type (queue.DBTypes);
// any other file is refused with exit code 5 before anything is written, so
// pointing bouncectl at another program's bstore file (mox's queue database
// has types named Msg and Hook too) cannot add tables to it or upgrade its
// schema.
//
// Commands that only read never change the file, not even its bbolt meta
// page: bstore has no read-only mode (opening registers the types in a
// write transaction), so they open the file with bbolt's read-only mode,
// copy a consistent snapshot of it to a private temporary file ($TMPDIR,
// mode 0600, removed afterwards) and read that with bstore. The read-only
// open takes a shared lock: several readers run side by side, and a file
// that only needs read permission can be read. A process holding the
// exclusive lock, such as the running server, still blocks them: they fail
// with exit code 4 after -lock-timeout. Copying costs time and temporary
// space in proportion to the file's size.
//
// Commands that write open the file itself with bstore and its exclusive
// lock, registering the current schema as the server does (bstore upgrades
// an older schema on open).
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
//
// # The server's API
//
// While the server runs it holds the database's lock; -url talks to its
// webapi.Server instead, e.g. -url https://mail.example.org/webapi/. The
// commands and their output are the same. The credentials (HTTP basic
// authentication) come from the file -credentials names, or else from the
// environment: BOUNCECTL_CREDENTIALS_FILE names such a file, or
// BOUNCECTL_USER and BOUNCECTL_PASSWORD hold them. A credentials file holds
// one line "user:password" and must not be readable by group or others, as
// ssh demands of private keys; there is no flag for the password itself,
// as other users can read a process's arguments. An operator account sees
// every account; another account only its own records. Plain http to a
// host other than loopback is allowed, with a warning. -timeout bounds a
// command; redirects are not followed.
//
// The server applies its own settings, so the flags that configure file
// mode's Handler and normalizer (queue fail -keep and -hostname, queue
// cancel -keep, suppression -separators and -dotless-domains) and the
// filters the API lacks (suppression list and export -created-after and
// -created-before, export -active) are refused with -url. Differences
// that remain:
//
//   - queue list reads every matching message, a page at a time, and
//     sorts them by next attempt here: the API lists in ID order.
//   - suppression add sends the addresses as one import (one transaction)
//     and looks each entry up before and after to show its ID and base
//     address; an address the server's normalizer stored under another
//     base address is shown without them.
//   - suppression remove and holdrules remove take one call per address
//     or rule. holdrules remove checks every ID first; suppression remove
//     stops at the first address not on the list, and says how many
//     before it were removed.
//   - queue fail and cancel use the server's Handler: its retention,
//     webhooks and DSN delivery, where file mode keeps messages for -keep
//     and queues no webhooks.
package main
