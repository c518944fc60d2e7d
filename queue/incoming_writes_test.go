package queue_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"
	"github.com/bouncekit/bouncekit/suppression"
)

// TestIncomingBucketsWritten pins the B-trees (bstore's record and index
// buckets, bbolt's pages) that the commit of one incoming report writes,
// read from the database file before and after: each tree a commit
// touches costs its depth in pages, written and synced, which is most of
// what a report costs. A matched failure DSN writes the message's record
// (its outcome, so LastActivity, changes, but no index holds either),
// the suppression entry with its indexes, and the webhook; no record of the report itself (its key is in the
// message's result). A copy of it writes nothing. A report that matches
// nothing writes its key (a record keyed by it, and its expiry) and the
// webhook. The database holds enough
// records that the trees have branch pages.
func TestIncomingBucketsWritten(t *testing.T) {
	e := newInEnv(t)
	var rcpts []string
	for i := range 3000 {
		rcpts = append(rcpts, fmt.Sprintf("h%d@example.com", i))
	}
	for i := 0; i < len(rcpts); i += 500 {
		e.send("alice", nil, rcpts[i:i+500]...)
	}
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		s := e.h.Suppressions.(*suppression.Store)
		for i := range 3000 {
			en := suppression.Entry{Account: fmt.Sprintf("acc%d", i%30), OriginalAddress: fmt.Sprintf("s%d@example.com", i), Category: suppression.CategoryHardBounce, Source: suppression.SourceQueue}
			if i%3 == 0 {
				en.Category = suppression.CategorySoftBounce
				en.ExpiresAt = inT0.Add(time.Duration(i) * time.Hour)
			}
			if _, _, err := s.AddTx(tx, en, inT0); err != nil {
				return err
			}
		}
		return nil
	})
	icheck(t, err, "adding suppression entries")
	m := e.send("alice", nil, "bob@example.com")[0]
	e.clock.Advance(time.Minute)

	matched := composeDSN(t, "<buckets1@mx.example.com>", "", []byte(origHeader), failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 user unknown"))
	unmatched := composeDSN(t, "<buckets2@mx.example.com>", "", nil, failedRcpt("nobody@example.com", "5.1.1", "550 5.1.1 user unknown"))
	hook := []string{"Hook", "Hook/index.Account+QueueMsgID", "Hook/index.NextAttempt", "Hook/records"}
	tests := []struct {
		name   string
		rcptTo string
		msg    []byte
		want   []string // Buckets written, besides the root's.
	}{
		{"matched failure", m.MailFrom("+"), matched, append([]string{
			"Entry", "Entry/index.Account", "Entry/index.Account+BaseAddress", "Entry/records",
			"MsgRetired", "MsgRetired/records",
		}, hook...)},
		{"matched failure again", m.MailFrom("+"), matched, nil},
		{"unmatched", "alice@example.org", unmatched, append([]string{
			"SeenReport", "SeenReport/index.KeepUntil", "SeenReport/records",
		}, hook...)},
		{"unmatched again", "alice@example.org", unmatched, nil},
	}
	for _, tc := range tests {
		before, err := plantest.ReadPages(e.path)
		icheck(t, err, "reading pages")
		e.incoming("alice", tc.rcptTo, tc.msg)
		after, err := plantest.ReadPages(e.path)
		icheck(t, err, "reading pages")
		w := plantest.Written(before, after)
		var got []string
		var pages []string
		for _, b := range plantest.Names(w) {
			pages = append(pages, fmt.Sprintf("%s %d", b, w[b]))
			if b != "" {
				got = append(got, b)
			}
		}
		t.Logf("%s: pages per bucket: %s", tc.name, strings.Join(pages, ", "))
		if tc.want == nil && len(w) > 0 || tc.want != nil && strings.Join(got, " ") != strings.Join(sortedCopy(tc.want), " ") {
			t.Errorf("%s: buckets written:\n%s\nwant:\n%s", tc.name, strings.Join(got, " "), strings.Join(sortedCopy(tc.want), " "))
		}
	}
}

func sortedCopy(l []string) []string {
	c := slices.Clone(l)
	slices.Sort(c)
	return c
}
