package queue

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/webhook"
)

// Msg is a message in the outbound queue: one message to one recipient.
// A submission to several recipients becomes several Msgs sharing a BaseID,
// so they can be delivered in one SMTP transaction and fail or succeed each
// on its own.
//
// The host stores the message data itself (file, blob table); bouncekit reads
// it only through a MessageOpener, to return headers in a DSN.
type Msg struct {
	ID     int64
	BaseID int64 `bstore:"index"` // ID of the first Msg of one submission; equal to ID for a single recipient.

	Queued        time.Time `bstore:"default now"`
	Hold          bool      // Held messages are never returned by Due.
	SenderAccount string    `bstore:"index"` // Local account that sent the message; failures go back to it.
	SenderAddress string    // MAIL FROM address as submitted; empty for the null sender.

	// FromID, when set, is unique and is used in a per-message MAIL FROM
	// (localpart, separator, FromID) so that DSNs coming back can be matched.
	FromID string `bstore:"index"`

	RecipientAddress string `bstore:"index"`                             // RCPT TO address.
	RecipientDomain  string `bstore:"index RecipientDomain+NextAttempt"` // Lowercase domain of RecipientAddress, for grouping and filtering.

	Attempts    int64     // Delivery attempts made so far.
	MaxAttempts int64     // If > 0, overrides the retry policy's MaxAttempts for this message.
	NextAttempt time.Time `bstore:"nonzero,index NextAttempt+ID"`
	LastAttempt time.Time // Zero before the first attempt.

	// DialedIPs holds per remote host the IPs dialed, set by the caller, so
	// later attempts can prefer other addresses.
	DialedIPs map[string][]net.IP

	Results []MsgResult // One per delivery attempt, oldest first.

	DelayedDSNSent bool // A delayed DSN was queued for this message; at most one is sent.

	Has8bit              bool   // Message contains bytes with the high bit set (8BITMIME).
	SMTPUTF8             bool   // Message needs SMTPUTF8; DSNs to its sender may use utf-8.
	IsDMARCReport        bool   // Outgoing DMARC aggregate report: failures go to the postmaster.
	IsTLSReport          bool   // Outgoing TLS report: failures go to the postmaster.
	IsDSN                bool   // The message is itself a DSN (null sender): never answered with a DSN.
	Size                 int64  // Message size in bytes.
	MessageID            string `bstore:"index"` // Message-ID header value, without <>.
	Subject              string // Subject header, for webhooks and summaries.
	RequireTLS           *bool  // RFC 8689 REQUIRETLS; nil means the host's default.
	FutureReleaseRequest string // RFC 4865 FUTURERELEASE parameter, if any.

	// RFC 3461 DSN parameters.
	Notify dsn.Notify // NOTIFY, in canonical form (dsn.ParseNotify); empty: not given, failure and delay DSNs.
	Ret    dsn.Ret    // RET: dsn.RetFull, dsn.RetHeaders, or empty (not given): the DSN returns the header.
	EnvID  string     `bstore:"index"` // ENVID, returned as Original-Envelope-Id.
	ORcpt  string     // ORCPT, e.g. "rfc822;user@example.org", returned as Original-Recipient.

	Extra map[string]string // Host data passed through to webhooks unchanged.

	// Attempt describes the delivery attempt being reported. The caller
	// sets it before FailMsgs or DeliveredMsgs; it is not stored.
	Attempt Attempt `bstore:"-"`
}

// Attempt describes one delivery attempt, for the MsgResult that FailMsgs
// and DeliveredMsgs record.
type Attempt struct {
	Start     time.Time     // When the attempt started; zero means Handler.Now at the call.
	Duration  time.Duration // How long it took.
	RemoteMTA string        // Host name or IP of the remote MTA, if a connection was made.
	RemoteIP  netip.Addr    // IP address of RemoteMTA, if known; the DSN's Remote-MTA carries it.
}

// MsgResult is the outcome of one delivery attempt, or of a DSN that told us
// about one.
type MsgResult struct {
	Start        time.Time
	Duration     time.Duration
	Success      bool
	Permanent    bool
	Code         int
	EnhancedCode string // A bounce.EnhancedCode's String; see failure.
	Reason       bounce.Reason
	Error        string
	RemoteMTA    string // Host name or IP of the remote MTA that answered, if known.
	DSN          bool   // The result came from an incoming DSN, not from our own attempt.

	// Report is, for a result from an incoming report, the key
	// ProcessIncoming recognizes that report and recipient by: the same
	// report processed again finds it on the message it changed, so
	// recording it costs no record of its own (see ProcessIncoming).
	Report string
}

// MsgRetired is a message that left the queue: delivered, failed, canceled
// or suppressed. It is kept for a per-account period so DSNs arriving later
// can be matched to it and so history can be shown.
type MsgRetired struct {
	ID     int64 // Same as the Msg's ID.
	BaseID int64 `bstore:"index"`

	Queued           time.Time
	SenderAccount    string `bstore:"index"`
	SenderAddress    string
	FromID           string `bstore:"index"`
	RecipientAddress string `bstore:"index"` // Its keys end in the ID: a recipient's messages are read newest first without sorting.
	RecipientDomain  string
	Attempts         int64
	MaxAttempts      int64
	LastAttempt      time.Time
	Results          []MsgResult

	Has8bit              bool
	SMTPUTF8             bool
	IsDMARCReport        bool
	IsTLSReport          bool
	IsDSN                bool
	Size                 int64
	MessageID            string `bstore:"index"`
	Subject              string
	RequireTLS           *bool
	FutureReleaseRequest string
	Notify               dsn.Notify
	Ret                  dsn.Ret
	EnvID                string `bstore:"index"`
	ORcpt                string
	Extra                map[string]string

	// Success is true when the message was delivered (or relayed/expanded).
	Success bool
	// Event is the webhook event that retired it: delivered, failed,
	// suppressed, canceled, relayed, expanded.
	Event webhook.OutgoingEvent
	// LastActivity is when the message was retired, or when a later DSN
	// changed its outcome.
	LastActivity time.Time
	// KeepUntil is when cleanup removes the record.
	KeepUntil time.Time `bstore:"index"`
}

// retire returns the MsgRetired for m, retired at now with the given event,
// kept until keepUntil.
func (m Msg) retire(success bool, event webhook.OutgoingEvent, now, keepUntil time.Time) MsgRetired {
	return MsgRetired{
		ID:                   m.ID,
		BaseID:               m.BaseID,
		Queued:               m.Queued,
		SenderAccount:        m.SenderAccount,
		SenderAddress:        m.SenderAddress,
		FromID:               m.FromID,
		RecipientAddress:     m.RecipientAddress,
		RecipientDomain:      m.RecipientDomain,
		Attempts:             m.Attempts,
		MaxAttempts:          m.MaxAttempts,
		LastAttempt:          m.LastAttempt,
		Results:              m.Results,
		Has8bit:              m.Has8bit,
		SMTPUTF8:             m.SMTPUTF8,
		IsDMARCReport:        m.IsDMARCReport,
		IsTLSReport:          m.IsTLSReport,
		IsDSN:                m.IsDSN,
		Size:                 m.Size,
		MessageID:            m.MessageID,
		Subject:              m.Subject,
		RequireTLS:           m.RequireTLS,
		FutureReleaseRequest: m.FutureReleaseRequest,
		Notify:               m.Notify,
		Ret:                  m.Ret,
		EnvID:                m.EnvID,
		ORcpt:                m.ORcpt,
		Extra:                m.Extra,
		Success:              success,
		Event:                event,
		LastActivity:         now,
		KeepUntil:            keepUntil,
	}
}

// LastResult returns the most recent result, and false if there is none.
func (m Msg) LastResult() (MsgResult, bool) {
	if len(m.Results) == 0 {
		return MsgResult{}, false
	}
	return m.Results[len(m.Results)-1], true
}

// HoldRule holds messages matching all its nonzero fields: they stay in the
// queue but Due does not return them until released. A rule with all fields
// zero holds every message.
type HoldRule struct {
	ID              int64
	Account         string
	SenderDomain    string
	RecipientDomain string
}

// All reports whether the rule matches every message.
func (r HoldRule) All() bool {
	return r.Account == "" && r.SenderDomain == "" && r.RecipientDomain == ""
}

// matches reports whether the rule holds m.
func (r HoldRule) matches(m Msg) bool {
	return (r.Account == "" || r.Account == m.SenderAccount) &&
		(r.SenderDomain == "" || strings.EqualFold(r.SenderDomain, addressDomain(m.SenderAddress))) &&
		(r.RecipientDomain == "" || strings.EqualFold(r.RecipientDomain, m.RecipientDomain))
}

// addressDomain returns the part after the last "@", or "".
func addressDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// Field names for bstore queries.
const (
	fieldID          = "ID"
	fieldNextAttempt = "NextAttempt"
	fieldKeepUntil   = "KeepUntil"
)
