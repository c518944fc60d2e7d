package queue

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/mjl-/bstore"
	"golang.org/x/net/idna"

	"github.com/bouncekit/bouncekit/bounce"
)

// DSNRequest is everything a DSNComposer needs for one DSN. One DSN reports
// on one or more recipients of the same original message (BaseID) that had
// the same outcome in one Handler call.
type DSNRequest struct {
	Kind DSNKind

	From      string    // Address the DSN is sent from (Handler.Postmaster).
	To        string    // The original sender, the DSN's recipient.
	MessageID string    // Message-ID for the DSN, without <>.
	Date      time.Time // Date of the DSN.
	Hostname  string    // This MTA, for Reporting-MTA (RFC 3464 section 2.2.2).

	// Msg is the first message the DSN is about; it supplies the original
	// Message-ID, Subject, Queued (Arrival-Date), EnvID and SMTPUTF8.
	Msg Msg

	Recipients []DSNRecipient

	// Original is the original message (RET=FULL) or its header section
	// (otherwise), as read by the MessageOpener; nil if there is none.
	Original    []byte
	HeadersOnly bool
}

// DSNRecipient is the per-recipient part of a DSNRequest (RFC 3464 section
// 2.3).
type DSNRecipient struct {
	Msg     Msg
	Failure bounce.Failure

	// WillRetryUntil is the time of the last attempt the retry policy will
	// make, for delayed DSNs (RFC 3464 section 2.3.9); zero otherwise.
	WillRetryUntil time.Time
}

// dsnMessageIDBytes is the number of random bytes in the local part of a
// DSN's Message-ID: unique without a counter, and stable across redelivery
// because it is stored with the DSN in the outbox.
const dsnMessageIDBytes = 12

// dsnBatch collects the DSNs of one Handler call, grouped by original
// message and kind.
type dsnBatch struct {
	groups []dsnGroup
}

type dsnGroup struct {
	kind   DSNKind
	baseID int64
	rcpts  []DSNRecipient
}

func (b *dsnBatch) add(kind DSNKind, m Msg, f bounce.Failure, retryUntil time.Time) {
	r := DSNRecipient{Msg: m, Failure: f, WillRetryUntil: retryUntil}
	for i := range b.groups {
		g := &b.groups[i]
		if g.kind == kind && g.baseID == m.BaseID {
			g.rcpts = append(g.rcpts, r)
			return
		}
	}
	b.groups = append(b.groups, dsnGroup{kind: kind, baseID: m.BaseID, rcpts: []DSNRecipient{r}})
}

// dsnWanted reports whether a DSN of kind goes out for m, whose sender may
// and wants to get it. It is the one place that decides: the retry policy
// only says when a delayed DSN is due.
func dsnWanted(m *Msg, kind DSNKind) bool {
	// RFC 5321 section 4.5.5: no notifications to the null reverse-path;
	// RFC 3461 section 6.2: none about a DSN.
	if m.SenderAddress == "" || m.IsDSN {
		return false
	}
	switch kind {
	case DSNDelayed:
		// One per message. DMARC and TLS reports: as mox, their failures go
		// to the postmaster, who needs no delay notices.
		return !m.DelayedDSNSent && !m.isReport() && m.Notify.Has(dsn.NotifyDelay) // RFC 3461 section 4.1.
	case DSNFailed:
		return m.Notify.Has(dsn.NotifyFailure) // RFC 3461 section 4.1.
	case DSNRelayed, DSNExpanded:
		return !m.isReport() && m.Notify.Has(dsn.NotifySuccess) // RFC 3461 section 4.1.
	}
	return false
}

// isReport reports whether m is an outgoing DMARC or TLS report, whose
// failures go to the postmaster.
func (m Msg) isReport() bool {
	return m.IsDMARCReport || m.IsTLSReport
}

// queueDSNs composes each DSN of the batch and stores it in the outbox.
// known is false when the sender account is unknown: the DSN goes to the
// postmaster account instead.
func (h *Handler) queueDSNs(tx *bstore.Tx, b *dsnBatch, account string, known bool, now time.Time) error {
	for _, g := range b.groups {
		m := g.rcpts[0].Msg
		msgID, err := h.randomID(dsnMessageIDBytes)
		if err != nil {
			return err
		}
		req := DSNRequest{
			Kind:       g.kind,
			From:       h.postmaster(),
			To:         m.SenderAddress,
			MessageID:  msgID + "@" + asciiHost(h.hostname()),
			Date:       now,
			Hostname:   h.hostname(),
			Msg:        m,
			Recipients: g.rcpts,
		}
		req.Original, req.HeadersOnly = h.readOriginal(tx, m)
		data, err := h.composer().ComposeDSN(req)
		if err != nil {
			// A value the composer refuses (a remote MTA name that is no
			// host name, an original it cannot carry) must not keep the
			// sender from the notice, nor the failure from being recorded:
			// try once more with only what the DSN needs.
			h.log().Warn("composing dsn, retrying without optional fields",
				slog.Int64("msgid", m.ID), slog.String("kind", string(g.kind)), slog.Any("err", err))
			h.Metrics.dsnFallback()
			data, err = h.composer().ComposeDSN(minimalDSN(req))
		}
		if err != nil {
			return fmt.Errorf("queue: composing %s dsn for message %d: %w", g.kind, m.ID, err)
		}
		ob := OutboxDSN{
			Created:     now,
			Kind:        g.kind,
			MsgID:       m.ID,
			Account:     account,
			From:        req.From,
			To:          req.To,
			MessageID:   req.MessageID,
			Data:        data,
			NextAttempt: now,
		}
		if m.isReport() {
			// As mox: the postmaster gets these in a separate mailbox, marked
			// read, so they are there when needed without taking attention.
			ob.Account = h.postmasterAccount()
			ob.Mailbox = "dmarc"
			ob.Seen = true
			h.Metrics.reportFailure(m)
			h.log().Info("failed to deliver report, dsn to postmaster", slog.Int64("msgid", m.ID))
		} else if !known {
			ob.Account = h.postmasterAccount()
		}
		if err := tx.Insert(&ob); err != nil {
			return fmt.Errorf("queue: storing dsn in outbox: %w", err)
		}
		h.Metrics.dsnQueued(g.kind)
	}
	return nil
}

// minimalDSN returns req without the fields a DSN can go without: the
// original message, its Message-ID, Subject and ENVID, and per recipient
// the remote MTA and ORCPT. A message stored with a value the composer
// cannot write (one queued before Add checked them, or written to the
// database directly) still gets its DSN, and its failure is recorded.
func minimalDSN(req DSNRequest) DSNRequest {
	req.Original, req.HeadersOnly = nil, true
	req.Msg.MessageID, req.Msg.Subject, req.Msg.EnvID = "", "", ""
	rcpts := make([]DSNRecipient, len(req.Recipients))
	for i, r := range req.Recipients {
		r.Msg.Attempt.RemoteMTA = ""
		r.Msg.Attempt.RemoteIP = netip.Addr{}
		r.Msg.ORcpt = ""
		rcpts[i] = r
	}
	req.Recipients = rcpts
	return req
}

// asciiHost returns host as A-labels (RFC 5890), for identifiers that must
// be ASCII such as a DSN's Message-ID; host itself when it cannot be
// converted.
func asciiHost(host string) string {
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		return a
	}
	return host
}

// readOriginal returns the original message of m for a DSN: all of it for
// RET=FULL, else its header section. Without a MessageOpener, or when the
// message cannot be read, the DSN goes without it (logged): a missing
// attachment must not keep the sender from learning about the failure.
func (h *Handler) readOriginal(tx *bstore.Tx, m Msg) (data []byte, headersOnly bool) {
	if h.MessageOpener == nil {
		return nil, true
	}
	full := m.Ret == dsn.RetFull // RFC 3461 section 4.3.
	r, err := h.MessageOpener.OpenMessage(tx, m)
	if err != nil {
		h.log().Error("opening original message for dsn", slog.Int64("msgid", m.ID), slog.Any("err", err))
		return nil, true
	}
	defer r.Close()
	if full {
		data, err = io.ReadAll(r)
	} else {
		data, err = readHeaderSection(r)
	}
	if err != nil {
		h.log().Error("reading original message for dsn", slog.Int64("msgid", m.ID), slog.Any("err", err))
		return nil, true
	}
	return data, !full
}

// readHeaderSection reads up to and including the empty line that ends the header
// section.
func readHeaderSection(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var buf bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		buf.Write(line)
		if len(bytes.TrimRight(line, "\r\n")) == 0 && len(line) > 0 || err == io.EOF {
			return buf.Bytes(), nil
		} else if err != nil {
			return nil, err
		}
	}
}

func (h *Handler) composer() DSNComposer {
	if h.DSNComposer != nil {
		return h.DSNComposer
	}
	return defaultComposer{}
}
