package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
)

func TestHooks(t *testing.T) {
	f := newFixture(t)

	out := f.ok("hooks", "list")
	contains(t, out, "EVENT", "delayed", "carol@example.com", "failed", "gone@example.com", "https://hooks.example.com/alice")
	p := jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list")
	if len(p.Items) != 2 || p.Items[0].ID != f.hookDelayed || p.Items[1].ID != f.hookFailed {
		t.Fatalf("list: %+v", p)
	}
	// Credentials are not printed.
	for _, h := range p.Items {
		if len(h.Secrets) != 1 || h.Secrets[0] != "(redacted)" {
			t.Errorf("secrets shown: %q", h.Secrets)
		}
	}

	sameIDs(t, "-event failed", hookIDs(jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list", "-event", "failed").Items), []int64{f.hookFailed})
	sameIDs(t, "-msgid", hookIDs(jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list", "-msgid", fmt.Sprint(f.carol)).Items), []int64{f.hookDelayed})
	sameIDs(t, "-account", hookIDs(jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list", "-account", "bob").Items), []int64{})
	p = jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list", "-limit", "1")
	if len(p.Items) != 1 || p.Next != f.hookDelayed {
		t.Errorf("page: %+v", p)
	}

	// The paging flags every listing has (listFlags).
	sameIDs(t, "-newest", hookIDs(jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list", "-newest").Items), []int64{f.hookFailed, f.hookDelayed})
	sameIDs(t, "-cursor", hookIDs(jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list", "-cursor", fmt.Sprint(f.hookDelayed)).Items), []int64{f.hookFailed})
	f.fails(exitUsage, "hooks", "list", "-limit", "-1")
	f.fails(exitUsage, "hooks", "retired", "-cursor", "-1")

	// Retry makes a hook due at the command's time.
	f.now = t0.Add(10 * time.Minute)
	contains(t, f.ok("hooks", "retry", "-id", fmt.Sprint(f.hookFailed)), "1 webhooks due now")
	for _, h := range jsonOf[pageJSON[hookqueue.Hook]](f, "hooks", "list").Items {
		if want := h.ID == f.hookFailed; h.NextAttempt.Equal(f.now) != want {
			t.Errorf("hook %d next attempt %v", h.ID, h.NextAttempt)
		}
	}
	f.fails(exitNotFound, "hooks", "retry", "-account", "bob")

	// Cancel retires them as canceled.
	n := jsonOf[map[string]int](f, "hooks", "cancel", "-event", "delayed")
	if n["Canceled"] != 1 {
		t.Errorf("cancel: %v", n)
	}
	f.fails(exitNotFound, "hooks", "cancel", "-event", "delayed")
	out = f.ok("hooks", "retired")
	contains(t, out, "OUTCOME", "canceled", "delayed")
	rp := jsonOf[pageJSON[hookqueue.HookRetired]](f, "hooks", "retired", "-outcome", "canceled")
	if len(rp.Items) != 1 || rp.Items[0].ID != f.hookDelayed || !rp.Items[0].LastActivity.Equal(f.now) {
		t.Errorf("retired: %+v", rp)
	}
	sameIDs(t, "-outcome delivered", retiredHookIDs(jsonOf[pageJSON[hookqueue.HookRetired]](f, "hooks", "retired", "-outcome", "delivered").Items), []int64{})

	contains(t, f.ok("hooks", "cancel", "-all"), "canceled 1 webhooks")
	r := f.run("hooks", "list")
	if r.code != exitOK || r.stderr != "no pending webhooks match\n" {
		t.Errorf("empty list: %+v", r)
	}
	sameIDs(t, "retired, oldest first", retiredHookIDs(jsonOf[pageJSON[hookqueue.HookRetired]](f, "hooks", "retired", "-oldest").Items), []int64{f.hookDelayed, f.hookFailed})
}

func hookIDs(l []hookqueue.Hook) []int64 {
	ids := []int64{}
	for _, h := range l {
		ids = append(ids, h.ID)
	}
	return ids
}

func retiredHookIDs(l []hookqueue.HookRetired) []int64 {
	ids := []int64{}
	for _, h := range l {
		ids = append(ids, h.ID)
	}
	return ids
}
