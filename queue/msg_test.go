package queue

import (
	"context"
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
)

func TestRecordsRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	db, err := bstore.Open(ctx, path, &bstore.Options{Timeout: time.Second}, DBTypes()...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	yes := true
	m := Msg{
		Queued:           now,
		SenderAccount:    "alice",
		SenderAddress:    "alice@example.org",
		FromID:           "Zm9vYmFyYmF6cXV1eA",
		RecipientAddress: "bob@example.com",
		RecipientDomain:  "example.com",
		Attempts:         2,
		MaxAttempts:      5,
		NextAttempt:      now.Add(time.Hour),
		LastAttempt:      now,
		DialedIPs:        map[string][]net.IP{"mx.example.com": {net.ParseIP("192.0.2.1")}},
		Results: []MsgResult{{
			Start: now, Duration: time.Second, Code: 451, EnhancedCode: "4.7.1",
			Reason: bounce.ReasonBlocked, Error: "451 4.7.1 greylisted", RemoteMTA: "mx.example.com",
		}},
		SMTPUTF8:   true,
		Size:       1234,
		MessageID:  "abc@example.org",
		Subject:    "hi",
		RequireTLS: &yes,
		Notify:     "FAILURE,DELAY",
		Ret:        "HDRS",
		EnvID:      "env-1",
		ORcpt:      "rfc822;bob@example.com",
		Extra:      map[string]string{"k": "v"},
	}
	rule := HoldRule{RecipientDomain: "example.com"}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		if err := tx.Insert(&m); err != nil {
			return err
		}
		r := m.retire(false, "failed", now, now.Add(24*time.Hour))
		if err := tx.Insert(&r); err != nil {
			return err
		}
		return tx.Insert(&rule)
	})
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	db, err = bstore.Open(ctx, path, &bstore.Options{Timeout: time.Second}, DBTypes()...)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got := Msg{ID: m.ID}
	if err := db.Get(ctx, &got); err != nil {
		t.Fatalf("get msg: %v", err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("msg round trip:\ngot  %#v\nwant %#v", got, m)
	}
	ret := MsgRetired{ID: m.ID}
	if err := db.Get(ctx, &ret); err != nil {
		t.Fatalf("get retired: %v", err)
	}
	if ret.RecipientAddress != m.RecipientAddress || ret.EnvID != "env-1" || ret.Success || ret.Event != "failed" || !ret.KeepUntil.Equal(now.Add(24*time.Hour)) || len(ret.Results) != 1 || ret.Results[0].Reason != bounce.ReasonBlocked {
		t.Fatalf("retired round trip: %#v", ret)
	}
	n, err := bstore.QueryDB[MsgRetired](ctx, db).FilterNonzero(MsgRetired{FromID: m.FromID}).Count()
	if err != nil || n != 1 {
		t.Fatalf("query retired by FromID: n %d, err %v", n, err)
	}
	gotRule := HoldRule{ID: rule.ID}
	if err := db.Get(ctx, &gotRule); err != nil || gotRule != rule {
		t.Fatalf("hold rule round trip: %v %#v", err, gotRule)
	}
}

func TestHoldRuleMatches(t *testing.T) {
	m := Msg{SenderAccount: "alice", SenderAddress: "alice@Example.org", RecipientDomain: "example.com"}
	cases := []struct {
		rule HoldRule
		want bool
	}{
		{HoldRule{}, true},
		{HoldRule{Account: "alice"}, true},
		{HoldRule{Account: "bob"}, false},
		{HoldRule{SenderDomain: "example.ORG"}, true},
		{HoldRule{RecipientDomain: "example.net"}, false},
		{HoldRule{Account: "alice", RecipientDomain: "example.com"}, true},
	}
	for _, c := range cases {
		if got := c.rule.matches(m); got != c.want {
			t.Errorf("rule %+v: got %v, want %v", c.rule, got, c.want)
		}
	}
}
