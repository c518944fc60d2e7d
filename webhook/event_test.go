package webhook

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// Payloads from mox's documentation decode into Outgoing and encode back to
// the same JSON.
func TestMoxCompat(t *testing.T) {
	for _, name := range []string{"mox-delivered.json", "mox-failed.json"} {
		t.Run(name, func(t *testing.T) {
			buf, err := os.ReadFile("testdata/" + name)
			tcheck(t, err, "read")
			dec := json.NewDecoder(bytes.NewReader(buf))
			dec.DisallowUnknownFields()
			var p Outgoing
			tcheck(t, dec.Decode(&p), "decode")
			if !p.Event.Known() {
				t.Fatalf("unknown event %q", p.Event)
			}
			out, err := json.Marshal(p)
			tcheck(t, err, "encode")
			var orig, again map[string]any
			tcheck(t, json.Unmarshal(buf, &orig), "decode original")
			tcheck(t, json.Unmarshal(out, &again), "decode ours")
			if !reflect.DeepEqual(orig, again) {
				t.Fatalf("round trip differs:\n%s\n%s", buf, out)
			}
		})
	}
}

// The additions appear in the JSON only when set.
func TestOutgoingAdditions(t *testing.T) {
	p := Outgoing{Event: EventComplained, Reason: "spamcomplaint", Recipient: "rcpt@example.org", Attempt: 2}
	out, err := json.Marshal(p)
	tcheck(t, err, "encode")
	var m map[string]any
	tcheck(t, json.Unmarshal(out, &m), "decode")
	tcompare(t, m["Reason"], any("spamcomplaint"), "reason")
	tcompare(t, m["Recipient"], any("rcpt@example.org"), "recipient")
	tcompare(t, m["Attempt"], any(float64(2)), "attempt")
	tcompare(t, m["Event"], any("complained"), "event")

	out, err = json.Marshal(Outgoing{Event: EventDelivered})
	tcheck(t, err, "encode")
	m = nil
	tcheck(t, json.Unmarshal(out, &m), "decode")
	for _, k := range []string{"Reason", "Recipient", "Attempt"} {
		if _, ok := m[k]; ok {
			t.Fatalf("empty %s present in %s", k, out)
		}
	}
	if OutgoingEvent("bounced").Known() {
		t.Fatalf("unknown event reported known")
	}
}

// Every example payload in the package documentation decodes, and there is
// one per event.
func TestDocExamples(t *testing.T) {
	buf, err := os.ReadFile("doc.go")
	tcheck(t, err, "read doc")
	seen := map[OutgoingEvent]bool{}
	var block []string
	for _, line := range strings.Split(string(buf), "\n") {
		if strings.HasPrefix(line, "\t{") || len(block) > 0 && (strings.HasPrefix(line, "\t ") || line == "\t}") {
			block = append(block, line)
			continue
		}
		if len(block) == 0 {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(strings.Join(block, "\n")))
		dec.DisallowUnknownFields()
		var p Outgoing
		tcheck(t, dec.Decode(&p), "decode doc example")
		if !p.Event.Known() || seen[p.Event] {
			t.Fatalf("doc example with unknown or repeated event %q", p.Event)
		}
		seen[p.Event] = true
		block = nil
	}
	for _, e := range Events() {
		if !seen[e] {
			t.Errorf("no doc example for %q", e)
		}
	}
}

// Events lists each event once, and exactly the events Known accepts.
func TestEvents(t *testing.T) {
	seen := map[OutgoingEvent]bool{}
	for _, e := range Events() {
		if !e.Known() || seen[e] || e == "" {
			t.Fatalf("event %q unknown, empty or repeated", e)
		}
		seen[e] = true
	}
	tcompare(t, len(seen), 9, "number of events")
	for _, e := range []OutgoingEvent{"", "bounced", "Delivered", "delivered "} {
		if e.Known() {
			t.Errorf("%q reported known", e)
		}
	}
}
