package main

import (
	"fmt"
	"testing"

	"github.com/bouncekit/bouncekit/queue"
)

func TestHoldRules(t *testing.T) {
	f := newFixture(t)
	r := f.run("holdrules", "list")
	if r.code != exitOK || r.stdout != "" || r.stderr != "no hold rules\n" {
		t.Errorf("empty list: %+v", r)
	}

	res := jsonOf[holdAddJSON](f, "holdrules", "add", "-domain", "Example.NET")
	if res.Rule.ID == 0 || res.Rule.RecipientDomain != "example.net" || res.Held != 2 {
		t.Fatalf("add: %+v", res)
	}
	sameIDs(t, "held by rule", msgIDs(jsonOf[[]queue.Msg](f, "queue", "list", "-held")), []int64{f.dave, f.erin})

	out := f.ok("holdrules", "add", "-account", "bob", "-sender-domain", "example.org")
	contains(t, out, "added hold rule", "it held 1 queued messages")
	out = f.ok("holdrules", "add", "-all")
	contains(t, out, "it held 1 queued messages") // carol; the others were held already.

	out = f.ok("holdrules", "list")
	contains(t, out, "SENDER DOMAIN", "example.net", "bob", "example.org", "(all messages)")
	rules := jsonOf[[]queue.HoldRule](f, "holdrules", "list")
	if len(rules) != 3 || !rules[2].All() {
		t.Fatalf("rules: %+v", rules)
	}

	// Removing is all or none: an unknown ID removes nothing.
	stderr := f.fails(exitNotFound, "holdrules", "remove", fmt.Sprint(rules[0].ID), "999")
	contains(t, stderr, "no hold rule 999; nothing removed")
	if n := len(jsonOf[[]queue.HoldRule](f, "holdrules", "list")); n != 3 {
		t.Errorf("after failed remove: %d rules", n)
	}

	out = f.ok("holdrules", "remove", fmt.Sprint(rules[0].ID), fmt.Sprint(rules[2].ID))
	contains(t, out, "removed 2 hold rules")
	rules = jsonOf[[]queue.HoldRule](f, "holdrules", "list")
	if len(rules) != 1 || rules[0].Account != "bob" {
		t.Fatalf("after remove: %+v", rules)
	}
	// Messages stay held until released.
	if n := len(jsonOf[[]queue.Msg](f, "queue", "list", "-held")); n != 4 {
		t.Errorf("held after removing rules: %d", n)
	}
}
