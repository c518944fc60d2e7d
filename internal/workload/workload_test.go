package workload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mjl-/bstore"
	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestAttemptError pins the outcome of each profile per attempt: which
// attempts fail, with which reply, and whether permanently. A restarted
// crash child and a repeated soak must see the same outcome of an attempt.
func TestAttemptError(t *testing.T) {
	for _, tc := range []struct {
		p         Profile
		failUntil int64 // Attempts 1..failUntil fail; -1: all; 0: none.
		code      int
		enhanced  bounce.EnhancedCode
		stage     bounce.Stage
		permanent bool
	}{
		{ProfileOK, 0, 0, bounce.EnhancedCode{}, bounce.StageUnknown, false},
		{ProfileLate, 0, 0, bounce.EnhancedCode{}, bounce.StageUnknown, false},
		{ProfileHard, -1, 550, bounce.EnhancedCode{5, 1, 1}, bounce.StageRcpt, true},
		{ProfileBlock, -1, 554, bounce.EnhancedCode{5, 7, 1}, bounce.StageRcpt, true},
		{ProfileTemp1, 1, 451, bounce.EnhancedCode{4, 7, 1}, bounce.StageRcpt, false},
		{ProfileTemp2, 2, 451, bounce.EnhancedCode{4, 3, 0}, bounce.StageRcpt, false},
		{ProfileTemp3, 3, 452, bounce.EnhancedCode{4, 3, 1}, bounce.StageData, false},
		{ProfileTempFail, -1, 451, bounce.EnhancedCode{4, 4, 1}, bounce.StageConnect, false},
		{"unknown", 0, 0, bounce.EnhancedCode{}, bounce.StageUnknown, false},
	} {
		t.Run(string(tc.p), func(t *testing.T) {
			for _, addr := range []string{Address(tc.p, 1, "a.example"), Address(tc.p, 12, "d07.example")} {
				for n := int64(1); n <= 25; n++ {
					err := AttemptError(addr, n)
					wantFail := tc.failUntil == -1 || n <= tc.failUntil
					if (err != nil) != wantFail {
						t.Fatalf("%s attempt %d: error %v, want failure %v", addr, n, err, wantFail)
					}
					if err == nil {
						continue
					}
					var se *bounce.SMTPError
					if !errors.As(err, &se) {
						t.Fatalf("%s attempt %d: %T, want an SMTPError", addr, n, err)
					}
					if se.Code != tc.code || se.EnhancedCode != tc.enhanced || se.Stage != tc.stage {
						t.Errorf("%s attempt %d: %d %v at %s, want %d %v at %s", addr, n, se.Code, se.EnhancedCode, se.Stage, tc.code, tc.enhanced, tc.stage)
					}
					if f := bounce.Classify(err); f.Permanent != tc.permanent {
						t.Errorf("%s attempt %d: classified permanent %v, want %v", addr, n, f.Permanent, tc.permanent)
					}
				}
			}
		})
	}
}

// TestAddress checks that ProfileOf reads back the profile Address wrote.
func TestAddress(t *testing.T) {
	for _, tc := range []struct {
		p      Profile
		i      int
		domain string
		want   string
	}{
		{ProfileOK, 0, "a.example", "ok-0@a.example"},
		{ProfileTempFail, 17, "d17.example", "tempfail-17@d17.example"},
		{ProfileTemp3, 3, "b.example", "temp3-3@b.example"},
	} {
		addr := Address(tc.p, tc.i, tc.domain)
		if addr != tc.want {
			t.Errorf("Address(%s, %d, %s) = %s, want %s", tc.p, tc.i, tc.domain, addr, tc.want)
		}
		if p := ProfileOf(addr); p != tc.p {
			t.Errorf("ProfileOf(%s) = %s, want %s", addr, p, tc.p)
		}
	}
}

// TestMixDraw checks that Draw follows the weights, takes exactly one
// number from the source and never draws a profile of weight 0.
func TestMixDraw(t *testing.T) {
	mix := Mix{{ProfileOK, 6}, {ProfileHard, 0}, {ProfileLate, 3}, {ProfileBlock, 1}}
	if mix.Total() != 10 {
		t.Fatalf("Total %d, want 10", mix.Total())
	}
	const draws = 20000
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[Profile]int{}
	for range draws {
		counts[mix.Draw(r)]++
	}
	for _, w := range mix {
		got := float64(counts[w.Profile]) / draws
		want := float64(w.N) / float64(mix.Total())
		if got < want-0.02 || got > want+0.02 {
			t.Errorf("%s drawn %.3f of the time, want %.2f", w.Profile, got, want)
		}
	}
	// One number per draw: after a draw, both sources are at the same place.
	a, b := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	mix.Draw(a)
	b.IntN(mix.Total())
	if x, y := a.Uint64(), b.Uint64(); x != y {
		t.Errorf("Draw took more than one number from its source")
	}
	if !mix.Has(ProfileBlock) || mix.Has(ProfileTemp1) {
		t.Errorf("Has: block %v, temp1 %v; want true, false", mix.Has(ProfileBlock), mix.Has(ProfileTemp1))
	}
}

// TestLateCompose checks that a late DSN reads back, with package dsn, as
// the failure of its recipient, returning the original's Message-ID
// unless NoOriginal.
func TestLateCompose(t *testing.T) {
	for _, noOriginal := range []bool{false, true} {
		l := Late{MsgID: 7, Account: "acct", RcptTo: "acct+f7@sender.example", Recipient: "late-3@a.example", MessageID: "sub7@sender.example", Subject: "hi", NoOriginal: noOriginal}
		b, err := l.Compose(ClockStart())
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := dsn.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("parsing the composed dsn: %v", err)
		}
		if len(m.Recipients) != 1 || m.Recipients[0].FinalRecipient != l.Recipient || m.Recipients[0].Action != dsn.ActionFailed || m.Recipients[0].Status != "5.1.1" {
			t.Errorf("recipients %+v, want %s failed 5.1.1", m.Recipients, l.Recipient)
		}
		if hasID := bytes.Contains(b, []byte("<"+l.MessageID+">")); hasID == noOriginal {
			t.Errorf("NoOriginal %v: original Message-ID in the dsn: %v", noOriginal, hasID)
		}
		if !bytes.Contains(b, []byte("bounce-7@mx.remote.example")) {
			t.Errorf("dsn has no Message-ID made from MsgID 7")
		}
	}
}

// TestHandler runs a message through a Handler made by Handler on a
// database made by OpenDB: the MessageOpener returns the header and body,
// and the account settings are found.
func TestHandler(t *testing.T) {
	ctx := context.Background()
	type extra struct {
		ID int64
	}
	db, err := OpenDB(ctx, filepath.Join(t.TempDir(), "w.db"), extra{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := queuetest.NewClock(ClockStart())
	h := Handler(db, clock, "mta.example", map[string]queue.AccountSettings{"acct": {KeepRetired: -1}}, "body\r\n")
	if _, ok := h.Accounts.Account("acct"); !ok {
		t.Errorf("account acct unknown")
	}
	if _, ok := h.Accounts.Account("other"); ok {
		t.Errorf("account other known")
	}
	m := &queue.Msg{SenderAccount: "acct", SenderAddress: SenderAddress("acct"), RecipientAddress: "ok-1@a.example", MessageID: "m1@sender.example", Subject: "s"}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		if err := tx.Insert(&extra{}); err != nil {
			return err
		}
		_, err := h.Add(tx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.FromID == "" || !strings.Contains(m.MailFrom(Separator), "+"+m.FromID+"@") {
		t.Errorf("FromID %q, MAIL FROM %q: want a generated FromID after %q", m.FromID, m.MailFrom(Separator), Separator)
	}
	rc, err := h.MessageOpener.OpenMessage(nil, *m)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	want := Header(m.SenderAddress, m.RecipientAddress, m.Subject, m.MessageID) + "body\r\n"
	if string(b) != want {
		t.Errorf("message %q, want %q", b, want)
	}
	if !strings.Contains(want, "Date: Mon, 05 Jan 2026 09:00:00 +0000\r\n") {
		t.Errorf("header %q has not the date of ClockStart", want)
	}
	var outs []queue.Outcome
	err = db.Write(ctx, func(tx *bstore.Tx) (err error) {
		outs, err = h.DeliveredMsgs(tx, []queue.Msg{*m}, Accepted())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].Result != queue.ResultDelivered {
		t.Errorf("DeliveredMsgs with Accepted: %+v, want one delivered", outs)
	}
}

// TestWorkers checks that Stop waits for the workers, returns the first
// error that is not a cancellation, and the same again.
func TestWorkers(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		runs []func(context.Context) error
		want error
	}{
		{"canceled", []func(context.Context) error{
			func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			func(ctx context.Context) error { <-ctx.Done(); return nil },
		}, nil},
		{"failed", []func(context.Context) error{
			func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			func(ctx context.Context) error { return boom },
		}, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{}, len(tc.runs))
			var runs []func(context.Context) error
			for _, run := range tc.runs {
				runs = append(runs, func(ctx context.Context) error {
					defer func() { done <- struct{}{} }()
					return run(ctx)
				})
			}
			w := StartWorkers(context.Background(), runs...)
			err := w.Stop()
			if len(done) != len(tc.runs) {
				t.Errorf("Stop returned with %d of %d workers done", len(done), len(tc.runs))
			}
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Stop: %v, want %v", err, tc.want)
			}
			if err2 := w.Stop(); err2 != err {
				t.Errorf("second Stop: %v, want %v", err2, err)
			}
		})
	}
}

// TestSubmissions checks that a submission depends only on seed and
// number, keeps to MaxRecipients and the limit, and has distinct
// recipients of the mix's profiles from the given accounts.
func TestSubmissions(t *testing.T) {
	mix := Mix{{ProfileOK, 5}, {ProfileHard, 1}, {ProfileTemp2, 2}}
	subs := func(seed uint64) Submissions {
		return Submissions{
			Seed:          seed,
			Mix:           mix,
			Accounts:      []string{"a", "b", "c"},
			MaxRecipients: 4,
			Address: func(r *rand.Rand, p Profile) string {
				return Address(p, r.IntN(3), "x.example")
			},
		}
	}
	accounts := map[string]int{}
	sizes := map[int]int{}
	for _, seed := range []uint64{1, 2} {
		for n := int64(1); n <= 200; n++ {
			for _, limit := range []int{0, 1, 2} {
				a, b := subs(seed).Draw(n, limit), subs(seed).Draw(n, limit)
				if a.N != n || a.Account != b.Account || strings.Join(a.Recipients, ",") != strings.Join(b.Recipients, ",") {
					t.Fatalf("seed %d, n %d: %+v and %+v", seed, n, a, b)
				}
				most := 4
				if limit > 0 {
					most = limit
				}
				if len(a.Recipients) < 1 || len(a.Recipients) > most {
					t.Fatalf("seed %d, n %d, limit %d: %d recipients", seed, n, limit, len(a.Recipients))
				}
				seen := map[string]bool{}
				for _, r := range a.Recipients {
					if seen[r] || !mix.Has(ProfileOf(r)) {
						t.Fatalf("seed %d, n %d: recipient %s repeated or of no profile of the mix", seed, n, r)
					}
					seen[r] = true
				}
				if limit == 0 {
					accounts[a.Account]++
					sizes[len(a.Recipients)]++
				}
			}
		}
	}
	if len(accounts) != 3 || len(sizes) != 4 {
		t.Errorf("accounts drawn %v, sizes %v: want all 3 accounts and 1 to 4 recipients", accounts, sizes)
	}
}
