package crashtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// TestCheckDetects proves that Check can fail: after one clean run without
// kills, each case breaks one invariant in a copy of the results, and the
// table must show it in the right row.
func TestCheckDetects(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process; skipped with -short")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{seed: 7, seen: map[string]bool{}}
	srv := httptestServer(t, rc)
	dir := t.TempDir()
	cp, err := startChild(t, exe, dir, 7, srv, 1, true, 25)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.waitLine("done"); err != nil {
		t.Fatalf("%v: %s", err, cp.stderr())
	}
	if err := cp.wait(); err != nil {
		t.Fatalf("%v: %s", err, cp.stderr())
	}
	receipts := rc.list()
	ctx := context.Background()

	rep, err := Check(ctx, dir, receipts, 0, 1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() {
		var b strings.Builder
		rep.Print(&b)
		t.Fatalf("clean run fails the check:\n%s", b.String())
	}

	// db runs fn in a write transaction on the copy's database.
	db := func(t *testing.T, d string, fn func(tx *bstore.Tx) error) {
		t.Helper()
		x, err := openDB(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		if err := x.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	appendLine := func(t *testing.T, path, line string) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(line); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()

	for _, tc := range []struct {
		name   string
		row    string
		mutate func(t *testing.T, d string, r []HookReceipt) []HookReceipt
	}{
		{"retired message lost", "messages added, each in exactly one place", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			db(t, d, func(tx *bstore.Tx) error {
				_, err := bstore.QueryTx[queue.MsgRetired](tx).Limit(1).Delete()
				return err
			})
			return r
		}},
		{"result of an attempt changed", "messages added, each in exactly one place", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			db(t, d, func(tx *bstore.Tx) error {
				m, err := bstore.QueryTx[queue.MsgRetired](tx).FilterFn(func(m queue.MsgRetired) bool { return len(m.Results) > 0 }).Limit(1).Get()
				if err != nil {
					return err
				}
				m.Results[0].Code = 299
				return tx.Update(&m)
			})
			return r
		}},
		{"message nobody added", "messages added, each in exactly one place", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			db(t, d, func(tx *bstore.Tx) error {
				return tx.Insert(&queue.Msg{SenderAccount: AccountKeep, RecipientAddress: "ok-1@a.example", NextAttempt: now.Add(time.Hour)})
			})
			return r
		}},
		{"committed transaction lost", "journaled transactions committed", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			db(t, d, func(tx *bstore.Tx) error {
				_, err := bstore.QueryTx[TxMark](tx).Limit(1).Delete()
				return err
			})
			return r
		}},
		{"journal intent twice", "journaled transactions committed", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			recs, _, err := readJournal(filepath.Join(d, journalFile))
			if err != nil || len(recs) == 0 {
				t.Fatal(err, len(recs))
			}
			appendLine(t, filepath.Join(d, journalFile), `{"seq":1,"run":1,"op":"add"}`+"\n")
			return r
		}},
		{"dsn never delivered", "DSNs delivered (at least once, same Message-ID)", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			buf, err := os.ReadFile(filepath.Join(d, dsnFile))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(string(buf), "\n")
			id := strings.Fields(lines[0])[3]
			var kept []string
			for _, l := range lines {
				if !strings.Contains(l, " "+id+" ") {
					kept = append(kept, l)
				}
			}
			if err := os.WriteFile(filepath.Join(d, dsnFile), []byte(strings.Join(kept, "")), 0o600); err != nil {
				t.Fatal(err)
			}
			return r
		}},
		{"dsn of rolled-back work", "DSNs delivered (at least once, same Message-ID)", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			appendLine(t, filepath.Join(d, dsnFile), formatDSNLine(DSNLine{OutboxID: 1, Kind: "failed", MsgID: 1, MessageID: "never@mta.crash.example", Account: AccountKeep}))
			return r
		}},
		{"webhook never delivered", "webhooks delivered (at least once, same webhook-id)", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			var kept []HookReceipt
			for _, x := range r {
				if x.WebhookID != r[0].WebhookID {
					kept = append(kept, x)
				}
			}
			return kept
		}},
		{"webhook of rolled-back work", "webhooks delivered (at least once, same webhook-id)", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			return append(r, HookReceipt{WebhookID: "bkh_999999", Account: AccountKeep, Event: webhook.EventFailed, MsgID: 1, Status: 200})
		}},
		{"webhook with another payload", "webhooks delivered (at least once, same webhook-id)", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			x := r[0]
			x.MsgID += 1000
			return append(r, x)
		}},
		{"suppression without cause", "suppression entries, each caused by a committed give-up or DSN", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			db(t, d, func(tx *bstore.Tx) error {
				s := &suppression.Store{}
				_, _, err := s.AddTx(tx, suppression.Entry{Account: AccountKeep, OriginalAddress: "ok-3@b.example", Category: suppression.Categories()[0], Source: suppression.Sources()[0]}, now)
				return err
			})
			return r
		}},
		{"suppression with another cause", "suppression entries, each caused by a committed give-up or DSN", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			db(t, d, func(tx *bstore.Tx) error {
				e, err := bstore.QueryTx[suppression.Entry](tx).Limit(1).Get()
				if err != nil {
					return err
				}
				e.Code = 599
				return tx.Update(&e)
			})
			return r
		}},
		{"hook left behind", "outbox and webhook queue empty after the drain", func(t *testing.T, d string, r []HookReceipt) []HookReceipt {
			db(t, d, func(tx *bstore.Tx) error {
				return tx.Insert(&hookqueue.Hook{Account: AccountKeep, URL: "http://127.0.0.1:1/", NextAttempt: now})
			})
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			for _, f := range []string{dbFile, journalFile, dsnFile} {
				buf, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, f), buf, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := tc.mutate(t, d, append([]HookReceipt(nil), receipts...))
			rep, err := Check(ctx, d, r, 0, 1, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			rep.Print(&b)
			for _, row := range rep.Rows {
				if row.What == tc.row {
					if row.Broken == 0 {
						t.Errorf("row %q not broken:\n%s", tc.row, b.String())
					}
					return
				}
			}
			t.Errorf("no row %q:\n%s", tc.row, b.String())
		})
	}
}
