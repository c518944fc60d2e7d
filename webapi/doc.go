// Package webapi is an HTTP API for applications and operators over
// bouncekit's records: suppression lists, queued and retired messages,
// webhooks and hold rules. Server is the http.Handler a host mounts at a
// path of its choosing; Client calls it.
//
// # Calls
//
// A method is called with POST {base}/{Method}, the request as a JSON
// object in the form field "request" (application/x-www-form-urlencoded or
// multipart/form-data), or as the body of an application/json request. A
// call that succeeds gets 200 and the result as a JSON object; one that
// fails gets 400 and an Error object, {"Code": ..., "Message": ...}. The
// lists of results are [] when empty, never null. A GET of the base path lists the methods
// as text. For example, with the Server mounted at /webapi/v0/:
//
//	curl --user app@example.com:s3cret \
//		--data request='{"EmailAddress": "someone@example.org"}' \
//		https://mail.example/webapi/v0/SuppressionPresent
//	{"Present":false}
//
// # Methods
//
// The first four are mox's; the others are bouncekit's, in the same style.
//
//	Method              Request                    Result
//	SuppressionList     SuppressionListRequest     SuppressionListResult
//	SuppressionAdd      SuppressionAddRequest      SuppressionAddResult
//	SuppressionRemove   SuppressionRemoveRequest   SuppressionRemoveResult
//	SuppressionPresent  SuppressionPresentRequest  SuppressionPresentResult
//	SuppressionExport   SuppressionExportRequest   CSV (text/csv), suppression.Columns
//	SuppressionImport   SuppressionImportRequest   SuppressionImportResult
//	RetiredList         RetiredListRequest         RetiredListResult
//	RetiredGet          RetiredGetRequest          RetiredGetResult
//	HookList            HookListRequest            HookListResult
//	HookRetiredList     HookRetiredListRequest     HookRetiredListResult
//	HookRetry           HookRetryRequest           HookRetryResult
//	HookCancel          HookCancelRequest          HookCancelResult
//	QueueList           QueueListRequest           QueueListResult
//	QueueHold           QueueHoldRequest           QueueCountResult
//	QueueRelease        QueueReleaseRequest        QueueCountResult
//	QueueReschedule     QueueRescheduleRequest     QueueCountResult
//	QueueFail           QueueFailRequest           QueueOutcomeResult
//	QueueCancel         QueueCancelRequest         QueueOutcomeResult
//	HoldRuleList        HoldRuleListRequest        HoldRuleListResult
//	HoldRuleAdd         HoldRuleAddRequest         HoldRuleAddResult
//	HoldRuleRemove      HoldRuleRemoveRequest      HoldRuleRemoveResult
//
// Records are the library's own types (queue.Msg, queue.MsgRetired,
// queue.HoldRule, hookqueue.Hook, hookqueue.HookRetired) in their JSON
// form, except suppression entries, which have mox's shape (Suppression).
// A pending webhook's credentials are shown as "(redacted)".
//
// Listings are paged as package paging pages: by record ID, oldest first
// or, with Newest, newest first; a result's Next is the After of the next
// page, 0 after the last. A page holds Limit records, paging.DefaultLimit
// without one (SuppressionList: Server.MaxPageSize, for mox clients),
// never more than Server.MaxPageSize.
//
// A method that changes queued messages or webhooks selected by a filter
// needs a filter (an Account counts) or All: an empty request never
// changes everything by accident. Each change is made in one write
// transaction, after its request was read and checked completely:
// nothing is half-applied. SuppressionImport reads and checks every row
// before it writes any. QueueHold, QueueRelease and QueueReschedule
// return how many messages matched and how many changed; a filter
// matching none is not an error. QueueFail and QueueCancel go through the
// host's queue.Handler, so DSNs, webhooks and retired records follow its
// settings.
//
// # Storage
//
// Queued and retired messages and hold rules are read and changed in
// Server.DB, the host's bstore database, each call in one transaction. The
// suppression list and the webhook history are Server.SuppressionList and
// Server.HookHistory, two small interfaces; their zero values are the
// bstore ones in Server.DB (Server.Suppressions and Server.Hooks), which
// is one process's truth. A host with several sending nodes sets them to
// the stores they share on PostgreSQL instead, from the nested module
// github.com/bouncekit/bouncekit/postgres: a pgsuppression.Store is a
// SuppressionList, and pgapi.Hooks makes a riverhook.Queue (webhooks
// delivered on River) a HookHistory; package pgapi tells what the API
// shows of River's jobs. Every call to them is one transaction of theirs;
// SuppressionImport stays all or nothing. Package webapitest is the suite
// both storages pass.
//
// # Authentication and accounts
//
// Authentication is the host's: an Authenticator maps a request to an
// Identity, an account or an operator. BasicAuth adapts a host's password
// check to HTTP basic authentication (RFC 7617), as mox's webapi uses.
// Missing credentials, an unknown account and a wrong password get the
// same 401 response, so it never tells whether an account exists.
//
// Every method is scoped to the authenticated account. Requests have an
// Account field: an account may leave it empty or name itself; naming any
// other account gets "forbidden", whether that account exists or not.
// Filters, IDs included, never match other accounts' records, and
// RetiredGet and HoldRuleRemove of another account's record get
// "notFound", as for one that does not exist. An operator sees and changes the records
// of every account: its listings without Account cover all accounts, and
// it may name any Account. A method that acts on one account's list
// (SuppressionAdd, SuppressionRemove, SuppressionPresent) takes the
// operator's own account when Account is empty.
//
// Failed authentications are limited per client address (an IPv4 address,
// an IPv6 /64) with a token bucket: Server.AuthFailures failures in a row,
// one more per Server.AuthFailureInterval. A client over the limit gets
// 429 Too Many Requests with Retry-After for every call, good credentials
// included, until it has waited: answering 401 would let it keep guessing,
// and delaying the answer would hold connections open. Missing credentials
// are not counted, and a successful authentication does not reset the
// count. mox answers 429 too.
//
// # Limits
//
// A request body is at most Server.MaxBodyBytes (SuppressionImport's
// Server.MaxImportBytes); a larger one gets "tooLarge". A call's context
// ends after Server.Timeout, and a call still working then gets "timeout";
// reading the body is bounded by the host's http.Server timeouts. A
// request with malformed JSON, a field the method's request does not have
// (json.Decoder.DisallowUnknownFields), or anything after its JSON object
// gets "protocol" with the decoder's message; an unknown method gets
// "unknownMethod". None of them change anything.
//
// # Error codes
//
//	user           A bad value in a well-formed request, e.g. an unknown event or a bad CSV row.
//	badAddress     A malformed email address.
//	notFound       No such record, or not the caller's.
//	protocol       The request cannot be read: content type, form, JSON, unknown field.
//	unknownMethod  No method of that name.
//	tooLarge       The request body is too large.
//	forbidden      The request names an account that is not the caller's.
//	notConfigured  The Server has no Handler (QueueFail, QueueCancel), or neither Hooks nor HookHistory (HookRetry, HookCancel).
//	timeout        The call took longer than Server.Timeout.
//	server         Anything else; the call may be retried.
//
// # Compatibility with mox
//
// SuppressionList, SuppressionAdd, SuppressionRemove and SuppressionPresent
// are wire-compatible with mox's webapi v0: the same paths, form field,
// authentication, status codes, request fields and result fields, with
// the same JSON names and types, so a mox webapi client works unchanged.
// Mount the Server at /webapi/v0/ for mox's default URL. The golden files
// in testdata/mox pin the exact bytes a mox client sends and receives.
// The differences, all within what a mox client accepts:
//
//   - Requests may carry bouncekit's additional fields (Account, filters,
//     paging); a mox client sends none.
//   - Results have fields mox's do not: Suppression after mox's fields
//     (Category, Source, codes, times, ExpiresAt), SuppressionAddResult
//     the stored entry and Added (mox's is empty), SuppressionListResult a
//     Next cursor when the list is longer than a page. mox's documentation
//     tells clients to ignore fields they do not know, and its client does. Manual is true for entries of the "manual"
//     category; SuppressionAdd with Manual false makes a "hardbounce"
//     entry.
//   - SuppressionList without Limit returns the first Server.MaxPageSize
//     entries in effect, where mox returns all: a list longer than that
//     needs the Next cursor.
//   - Base addresses come from the suppression.Store's Normalizer, not
//     mox's (which cuts every localpart at "-" and removes all dots).
//   - SuppressionAdd of a listed address refreshes its entry; mox fails
//     with a unique-index error. SuppressionRemove of an absent address
//     gets code "notFound"; mox gives code "error".
//   - GET of a method is 405 (mox serves an HTML form); an unknown method
//     is 400 "unknownMethod" (mox: 404).
//
// The other methods of mox's webapi (Send, Message*) are not provided:
// sending and mailboxes are the host's.
package webapi
