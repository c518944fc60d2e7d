package webapi

import (
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// ErrorCode says what kind of error a method call got, for programs; the
// Message of an Error is for people.
type ErrorCode string

// Error codes. "user", "server" and "badAddress" are mox's; so is
// "protocol", which mox gives for a request it cannot read.
const (
	CodeUser          ErrorCode = "user"          // A bad value in a well-formed request.
	CodeServer        ErrorCode = "server"        // The server failed; the request may be retried.
	CodeBadAddress    ErrorCode = "badAddress"    // A malformed email address.
	CodeNotFound      ErrorCode = "notFound"      // No such record, or not the caller's.
	CodeProtocol      ErrorCode = "protocol"      // Unreadable request: content type, form, JSON, unknown field.
	CodeUnknownMethod ErrorCode = "unknownMethod" // No method of that name.
	CodeTooLarge      ErrorCode = "tooLarge"      // The request body is larger than the server accepts.
	CodeForbidden     ErrorCode = "forbidden"     // The request names an account that is not the caller's.
	CodeNotConfigured ErrorCode = "notConfigured" // The server was set up without what the method needs.
	CodeTimeout       ErrorCode = "timeout"       // The call took longer than the server allows.
)

// Error is the body of a 400 response, and what Client methods return for
// one. It has mox's webapi.Error fields and JSON form.
type Error struct {
	Code    ErrorCode
	Message string
}

func (e *Error) Error() string {
	return "webapi: " + string(e.Code) + ": " + e.Message
}

// Page selects one page of a listing, as paging.Page does; its fields are
// part of the list requests' JSON. After is the Next of the previous
// result; zero Limit means the server's default page size.
type Page struct {
	After  int64 `json:",omitempty"`
	Limit  int   `json:",omitempty"`
	Newest bool  `json:",omitempty"` // Newest (highest ID) first.
}

// Suppression is an entry of a suppression list as the API shows it: mox's
// webapi.Suppression (ID, Created, Account, BaseAddress, OriginalAddress,
// Manual, Reason), followed by the fields bouncekit adds.
type Suppression struct {
	ID              int64
	Created         time.Time
	Account         string
	BaseAddress     string
	OriginalAddress string
	Manual          bool // Category is manual.
	Reason          string

	Category     suppression.Category
	Source       suppression.Source
	Code         int64  // SMTP reply code of the failure, 0 if none.
	EnhancedCode string // RFC 3463 status code of the failure, if any.
	LastSeen     time.Time
	Hits         int64 // Sends stopped by this entry.
	LastHit      time.Time
	ExpiresAt    time.Time // Zero: never.
}

// SuppressionListRequest lists a suppression list. A mox client sends it
// empty: it then gets the caller's entries in effect, up to the server's
// largest page. The other fields are bouncekit's.
type SuppressionListRequest struct {
	Account  string               `json:",omitempty"` // Operator only; empty: all accounts.
	Category suppression.Category `json:",omitempty"`
	Source   suppression.Source   `json:",omitempty"`
	Search   string               `json:",omitempty"` // Part of the address, any case.
	Expired  bool                 `json:",omitempty"` // Also list expired entries not yet removed.

	CreatedAfter  *time.Time `json:",omitempty"` // Created at or after.
	CreatedBefore *time.Time `json:",omitempty"` // Created before.
	Page
}

// SuppressionListResult is a page of entries, oldest first unless Newest.
type SuppressionListResult struct {
	Suppressions []Suppression
	Next         int64 `json:",omitempty"` // Cursor for the next page; 0 after the last.
}

// SuppressionAddRequest adds an address to a suppression list, or
// refreshes its entry. Manual true makes a "manual" entry; false, an
// application's own decision, a "hardbounce" one, unless Category says
// otherwise.
type SuppressionAddRequest struct {
	EmailAddress string
	Manual       bool
	Reason       string

	Account   string               `json:",omitempty"` // Operator only; empty: the caller's own account.
	Category  suppression.Category `json:",omitempty"`
	Source    suppression.Source   `json:",omitempty"` // Empty: api.
	ExpiresAt *time.Time           `json:",omitempty"`
}

// SuppressionAddResult is mox's empty result with bouncekit's additions:
// the entry as stored, and whether it came into effect (false: an entry
// in effect was refreshed).
type SuppressionAddResult struct {
	Suppression Suppression
	Added       bool
}

// SuppressionRemoveRequest removes the entry of the address's base
// address.
type SuppressionRemoveRequest struct {
	EmailAddress string
	Account      string `json:",omitempty"` // Operator only; empty: the caller's own account.
}

// SuppressionRemoveResult is empty, as mox's.
type SuppressionRemoveResult struct{}

// SuppressionPresentRequest asks whether an address is suppressed.
type SuppressionPresentRequest struct {
	EmailAddress string
	Account      string `json:",omitempty"` // Operator only; empty: the caller's own account.
}

// SuppressionPresentResult tells whether an entry is in effect.
type SuppressionPresentResult struct {
	Present bool
}

// SuppressionExportRequest selects the entries SuppressionExport writes
// as CSV (suppression.Columns).
type SuppressionExportRequest struct {
	Account       string // Operator only; empty: all accounts.
	Category      suppression.Category
	Source        suppression.Source
	Search        string
	CreatedAfter  time.Time // Created at or after.
	CreatedBefore time.Time // Created before.
}

// SuppressionImportRequest holds a CSV list in suppression.Store.Import's
// format. Every row must name an account; for an account (not an
// operator) every row must name the caller's own.
type SuppressionImportRequest struct {
	CSV string
}

// SuppressionImportResult tells what the import did.
type SuppressionImportResult struct {
	Rows    int
	Added   int
	Updated int
}

// RetiredListRequest lists messages that left the queue.
type RetiredListRequest struct {
	Account   string                // Operator only; empty: all accounts.
	Recipient string                // Exact recipient address.
	Event     webhook.OutgoingEvent // e.g. failed.
	Since     time.Time             // Retired at or after.
	Before    time.Time             // Retired before.
	Page
}

// RetiredListResult is a page of retired messages, each with its delivery
// attempts (Results).
type RetiredListResult struct {
	Messages []queue.MsgRetired
	Next     int64
}

// RetiredGetRequest asks for one retired message.
type RetiredGetRequest struct {
	ID int64
}

// RetiredGetResult is the retired message with its delivery attempts
// (Message.Results), and the webhooks about it, pending and retired.
type RetiredGetResult struct {
	Message      queue.MsgRetired
	Hooks        []hookqueue.Hook
	RetiredHooks []hookqueue.HookRetired
}

// HookFilter selects webhooks. Zero fields match everything.
type HookFilter struct {
	IDs             []int64
	URL             string
	Event           webhook.OutgoingEvent
	QueueMsgID      int64
	SubmittedAfter  time.Time // Inclusive.
	SubmittedBefore time.Time // Exclusive.
}

// HookListRequest lists pending webhooks. Their credentials
// (Authorization, Secrets) are shown as "(redacted)".
type HookListRequest struct {
	Account string // Operator only; empty: all accounts.
	HookFilter
	Page
}

// HookListResult is a page of pending webhooks.
type HookListResult struct {
	Hooks []hookqueue.Hook
	Next  int64
}

// HookRetiredListRequest lists delivered, failed, canceled and superseded
// webhooks.
type HookRetiredListRequest struct {
	Account string // Operator only; empty: all accounts.
	HookFilter
	RetireReason hookqueue.RetireReason
	Page
}

// HookRetiredListResult is a page of retired webhooks.
type HookRetiredListResult struct {
	Hooks []hookqueue.HookRetired
	Next  int64
}

// HookRetryRequest makes the matching pending webhooks due now. A request
// without any filter needs All.
type HookRetryRequest struct {
	Account string // Operator only; empty: all accounts.
	HookFilter
	All bool
}

// HookRetryResult tells how many webhooks were made due.
type HookRetryResult struct {
	Retried int
}

// HookCancelRequest cancels the matching pending webhooks: they are retired
// as canceled. A request without any filter needs All.
type HookCancelRequest struct {
	Account string // Operator only; empty: all accounts.
	HookFilter
	All bool
}

// HookCancelResult tells how many webhooks were canceled.
type HookCancelResult struct {
	Canceled int
}

// QueueFilter selects queued messages. Zero fields match everything.
type QueueFilter struct {
	IDs             []int64
	BaseID          int64
	SenderDomain    string
	RecipientDomain string
	Recipient       string    // Exact recipient address.
	DueBefore       time.Time // Next attempt before.
	DueAfter        time.Time // Next attempt at or after.
	Held            bool      // Only held messages.
}

// QueueListRequest lists queued messages in ID order.
type QueueListRequest struct {
	Account string // Operator only; empty: all accounts.
	QueueFilter
	Page
}

// QueueListResult is a page of queued messages, each with its delivery
// attempts so far (Results).
type QueueListResult struct {
	Messages []queue.Msg
	Next     int64
}

// QueueHoldRequest holds the matching messages: they are not delivered
// until released. A request without any filter needs All.
type QueueHoldRequest struct {
	Account string // Operator only; empty: all accounts.
	QueueFilter
	All bool
}

// QueueReleaseRequest releases the matching held messages. A request
// without any filter needs All.
type QueueReleaseRequest struct {
	Account string // Operator only; empty: all accounts.
	QueueFilter
	All bool
}

// QueueRescheduleRequest sets the next delivery attempt of the matching
// messages. A request without any filter needs All.
type QueueRescheduleRequest struct {
	Account string // Operator only; empty: all accounts.
	QueueFilter
	All bool

	// NextAttempt is the new time of the next attempt; zero means now.
	NextAttempt time.Time
}

// QueueCountResult is the result of QueueHold, QueueRelease and
// QueueReschedule: how many messages matched and how many changed.
type QueueCountResult struct {
	Matched int
	Changed int
	IDs     []int64 // Of the matched messages.
}

// QueueFailRequest fails the matching messages permanently, as the
// queue's Handler.FailMsgs does with status 5.0.0 and Reason: the sender
// gets a failure DSN unless its NOTIFY says otherwise, and webhooks go out
// as for any failure. A request without any filter needs All.
type QueueFailRequest struct {
	Account string // Operator only; empty: all accounts.
	QueueFilter
	All bool

	// Reason is the error text for the DSN and the message's history.
	// Empty: "delivery canceled by operator".
	Reason string
}

// QueueCancelRequest removes the matching messages without a DSN, as the
// queue's Handler.CancelMsgs does. A request without any filter needs All.
type QueueCancelRequest struct {
	Account string // Operator only; empty: all accounts.
	QueueFilter
	All bool
}

// Outcome is what QueueFail or QueueCancel did with one message.
type Outcome struct {
	MsgID     int64
	Recipient string
	Result    queue.Result
	DSN       queue.DSNKind         `json:",omitempty"` // Kind of DSN queued, if any.
	Hook      webhook.OutgoingEvent `json:",omitempty"` // Webhook event queued, if any.
	Retired   bool                  // Kept as a retired message.
}

// QueueOutcomeResult is the result of QueueFail and QueueCancel, one
// Outcome per matched message.
type QueueOutcomeResult struct {
	Outcomes []Outcome
}

// HoldRuleListRequest lists hold rules: an account's own, or for an
// operator those of Account, all without one.
type HoldRuleListRequest struct {
	Account string // Operator only; empty: all rules.
}

// HoldRuleListResult holds the rules by ID.
type HoldRuleListResult struct {
	Rules []queue.HoldRule
}

// HoldRuleAddRequest adds a hold rule: queued and new messages matching
// all its nonzero fields are held. An account's rule always has its
// Account set; an operator's rule without Account holds messages of every
// account, and one without any field every message (as bouncectl's
// "holdrules add -all").
type HoldRuleAddRequest struct {
	Account         string
	SenderDomain    string
	RecipientDomain string
}

// HoldRuleAddResult is the stored rule and how many queued messages it
// held at once.
type HoldRuleAddResult struct {
	Rule queue.HoldRule
	Held int
}

// HoldRuleRemoveRequest removes a hold rule. Messages it held stay held
// until released.
type HoldRuleRemoveRequest struct {
	ID int64
}

// HoldRuleRemoveResult is empty.
type HoldRuleRemoveResult struct{}

// Entry returns the library's form of s.
func (s Suppression) Entry() suppression.Entry {
	return suppression.Entry{
		ID:              s.ID,
		Account:         s.Account,
		BaseAddress:     s.BaseAddress,
		OriginalAddress: s.OriginalAddress,
		Reason:          s.Reason,
		Category:        s.Category,
		Source:          s.Source,
		Code:            s.Code,
		EnhancedCode:    s.EnhancedCode,
		Created:         s.Created,
		LastSeen:        s.LastSeen,
		Hits:            s.Hits,
		LastHit:         s.LastHit,
		ExpiresAt:       s.ExpiresAt,
	}
}

// page converts p for the library's listings.
func (p Page) page() paging.Page {
	return paging.Page(p)
}
