package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// Summary is what the demo did, read back from the library's own records.
type Summary struct {
	Recipients      []RecipientSummary
	DSNs            []DSNSummary
	Webhooks        []receivedHook
	WebhookRequests int      // HTTP requests, including the one answered 503.
	Rejected        []string // Requests refused for a bad signature; none expected.
	Suppressions    []suppression.Entry
	Incoming        queue.IncomingResult
	Maildir, DBPath string
}

// RecipientSummary is one message's history.
type RecipientSummary struct {
	MsgID     int64
	Account   string
	Recipient string
	Attempts  []string              // Simulated time and result of each attempt.
	Outcome   webhook.OutgoingEvent // The event that retired it: delivered, failed, suppressed, ...
	Reason    bounce.Reason
	DSNs      []string // Kinds of DSNs sent to the sender.
}

// DSNSummary is one DSN delivered into the Maildir.
type DSNSummary struct {
	Account, Mailbox string
	Kind             queue.DSNKind
	MsgID            int64
	Seen             bool
}

func (d *demo) summary(ctx context.Context) (*Summary, error) {
	s := &Summary{Maildir: d.maildir.dir, DBPath: d.dbPath, Incoming: d.incoming}
	dsns := map[int64][]string{}
	for _, o := range d.maildir.list() {
		s.DSNs = append(s.DSNs, DSNSummary{o.Account, o.Mailbox, o.Kind, o.MsgID, o.Seen})
		dsns[o.MsgID] = append(dsns[o.MsgID], string(o.Kind))
	}
	s.Webhooks, s.WebhookRequests, s.Rejected = d.app.received()

	err := d.db.Read(ctx, func(tx *bstore.Tx) error {
		retired, err := bstore.QueryTx[queue.MsgRetired](tx).SortAsc("ID").List()
		if err != nil {
			return err
		}
		for _, m := range retired {
			r := RecipientSummary{MsgID: m.ID, Account: m.SenderAccount, Recipient: m.RecipientAddress, Outcome: m.Event, DSNs: dsns[m.ID]}
			for _, res := range m.Results {
				a := since(res.Start) + " "
				switch {
				case res.Success:
					a += "ok"
				case res.DSN:
					a += "dsn " + res.EnhancedCode
				case res.Code == 0:
					a += string(res.Reason)
				default:
					a += fmt.Sprintf("%d %s", res.Code, res.EnhancedCode)
				}
				r.Attempts = append(r.Attempts, strings.TrimSpace(a))
				if !res.Success {
					r.Reason = res.Reason
				}
			}
			s.Recipients = append(s.Recipients, r)
		}
		queued, err := bstore.QueryTx[queue.Msg](tx).Count()
		if err != nil {
			return err
		}
		if queued > 0 {
			return fmt.Errorf("%d messages still queued at the end", queued)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	entries, _, err := d.supp.List(ctx, suppression.Filter{}, paging.Page{Limit: paging.MaxLimit})
	if err != nil {
		return nil, err
	}
	s.Suppressions = entries
	return s, nil
}

// Print writes the summary for a person.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintln(w, "\nRecipients")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  recipient\toutcome\treason\tattempts\tDSNs\tattempt times (simulated)")
	for _, r := range s.Recipients {
		reason := string(r.Reason)
		if r.Outcome == webhook.EventDelivered && reason != "" {
			reason = "(" + reason + " before)"
		}
		times := strings.Join(r.Attempts, ", ")
		if len(r.Attempts) > 6 {
			times = strings.Join(r.Attempts[:3], ", ") + fmt.Sprintf(", ... %d more ..., ", len(r.Attempts)-5) + strings.Join(r.Attempts[len(r.Attempts)-2:], ", ")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\n", r.Recipient, r.Outcome, reason, len(r.Attempts), orDash(strings.Join(r.DSNs, "+")), times)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nWebhooks received (%d requests, the first answered 503 and retried; %d bad signatures)\n", s.WebhookRequests, len(s.Rejected))
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, h := range s.Webhooks {
		p := h.Payload
		extra := ""
		if p.Suppressing {
			extra += " suppressing"
		}
		if p.DSN {
			extra += " from-dsn"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d %s\t%s\n", h.Event, p.Recipient, p.SMTPCode, p.SMTPEnhancedCode, strings.TrimSpace(extra))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nSuppression list")
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, e := range s.Suppressions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", e.Account, e.BaseAddress, e.Category, e.Source, e.Reason)
	}
	if len(s.Suppressions) == 0 {
		fmt.Fprintln(tw, "  (empty)")
	}
	tw.Flush()

	fmt.Fprintf(w, "\nDSNs: %d delivered into the Maildir %s (open with: mutt -f %s/alice)\n", len(s.DSNs), s.Maildir, s.Maildir)
	fmt.Fprintf(w, "Database: %s (inspect with: go run ./examples/bouncectl -db %s retired list)\n", s.DBPath, s.DBPath)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
