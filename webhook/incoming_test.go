package webhook

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/incoming-full.golden")

// mox's example incoming payload decodes into Incoming and encodes back to
// the same JSON.
func TestMoxIncomingCompat(t *testing.T) {
	buf, err := os.ReadFile("testdata/mox-incoming.json")
	tcheck(t, err, "read")
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.DisallowUnknownFields()
	var in Incoming
	tcheck(t, dec.Decode(&in), "decode")
	out, err := json.Marshal(in)
	tcheck(t, err, "encode")
	var orig, again map[string]any
	tcheck(t, json.Unmarshal(buf, &orig), "decode original")
	tcheck(t, json.Unmarshal(out, &again), "decode ours")
	if !reflect.DeepEqual(orig, again) {
		t.Fatalf("round trip differs:\n%s\n%s", buf, out)
	}
}

func fullIncoming() Incoming {
	date := time.Date(2024, 3, 27, 10, 0, 0, 0, time.FixedZone("", 3600))
	return Incoming{
		Version:    0,
		From:       []NameAddress{{Name: "Jörg Example", Address: "joerg@example.org"}},
		To:         []NameAddress{{Address: "support@example.com"}},
		CC:         []NameAddress{{Name: "Sales", Address: "sales@example.com"}, {Address: "x@example.net"}},
		BCC:        []NameAddress{{Address: "audit@example.com"}},
		ReplyTo:    []NameAddress{{Address: "joerg+reply@example.org"}},
		Subject:    "Grüße: order 4711",
		MessageID:  "<m2@example.org>",
		InReplyTo:  "<m1@example.com>",
		References: []string{"<m0@example.org>", "<m1@example.com>"},
		Date:       &date,
		Text:       "Hello ☺\n",
		HTML:       "<p>Hello ☺</p>\n",
		Structure: Structure{
			ContentType:       "multipart/mixed",
			ContentTypeParams: map[string]string{"boundary": "outer"},
			Parts: []Structure{
				{
					ContentType:       "multipart/alternative",
					ContentTypeParams: map[string]string{"boundary": "inner"},
					Parts: []Structure{
						{ContentType: "text/plain", ContentTypeParams: map[string]string{"charset": "utf-8"}, DecodedSize: 10},
						{ContentType: "text/html", ContentTypeParams: map[string]string{"charset": "utf-8"}, DecodedSize: 18},
					},
				},
				{
					ContentType:        "application/pdf",
					ContentTypeParams:  map[string]string{"name": "invoice.pdf"},
					ContentID:          "<part1@example.org>",
					ContentDisposition: "attachment",
					Filename:           "Rechnung.pdf",
					DecodedSize:        1234,
				},
			},
		},
		Meta: IncomingMeta{
			MsgID:               42,
			MailFrom:            "joerg@example.org",
			MailFromValidated:   true,
			MsgFromValidated:    true,
			RcptTo:              "support@example.com",
			DKIMVerifiedDomains: []string{"example.org"},
			RemoteIP:            "192.0.2.1",
			Received:            time.Date(2024, 3, 27, 9, 0, 1, 0, time.UTC),
			MailboxName:         "Inbox",
			Automated:           false,
		},
	}
}

// The JSON of a payload with every field set is pinned, and has exactly
// mox's field names at every level.
func TestIncomingGolden(t *testing.T) {
	out, err := json.MarshalIndent(fullIncoming(), "", "\t")
	tcheck(t, err, "encode")
	out = append(out, '\n')
	const path = "testdata/incoming-full.golden"
	if *update {
		tcheck(t, os.WriteFile(path, out, 0o644), "write golden")
	}
	want, err := os.ReadFile(path)
	tcheck(t, err, "read golden")
	if !bytes.Equal(out, want) {
		t.Fatalf("payload differs from %s (go test -update rewrites it):\n%s", path, out)
	}

	// mox's webhook.Incoming, IncomingMeta, NameAddress and Structure.
	moxFields := map[string][]string{
		"":          {"Version", "From", "To", "CC", "BCC", "ReplyTo", "Subject", "MessageID", "InReplyTo", "References", "Date", "Text", "HTML", "Structure", "Meta"},
		"Meta":      {"MsgID", "MailFrom", "MailFromValidated", "MsgFromValidated", "RcptTo", "DKIMVerifiedDomains", "RemoteIP", "Received", "MailboxName", "Automated"},
		"From":      {"Name", "Address"},
		"Structure": {"ContentType", "ContentTypeParams", "ContentID", "ContentDisposition", "Filename", "DecodedSize", "Parts"},
	}
	var m map[string]any
	tcheck(t, json.Unmarshal(out, &m), "decode")
	check := func(name string, obj any) {
		t.Helper()
		o, ok := obj.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object: %v", name, obj)
		}
		var keys []string
		for k := range o {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := slices.Clone(moxFields[name])
		sort.Strings(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("%s: fields %v, mox has %v", name, keys, want)
		}
	}
	check("", m)
	check("Meta", m["Meta"])
	check("From", m["From"].([]any)[0])
	s := m["Structure"].(map[string]any)
	check("Structure", s)
	check("Structure", s["Parts"].([]any)[0].(map[string]any)["Parts"].([]any)[1])

	// JSON types as mox's: numbers, strings, booleans, RFC 3339 times.
	for k, want := range map[string]any{"Version": float64(0), "Subject": "Grüße: order 4711", "Date": "2024-03-27T10:00:00+01:00"} {
		tcompare(t, m[k], want, k)
	}
	meta := m["Meta"].(map[string]any)
	for k, want := range map[string]any{"MsgID": float64(42), "MailFromValidated": true, "Received": "2024-03-27T09:00:01Z", "Automated": false} {
		tcompare(t, meta[k], want, "Meta."+k)
	}

	// It decodes back into an Incoming that encodes the same.
	var back Incoming
	tcheck(t, json.Unmarshal(out, &back), "decode into Incoming")
	again, err := json.MarshalIndent(back, "", "\t")
	tcheck(t, err, "encode again")
	if !bytes.Equal(append(again, '\n'), out) {
		t.Fatalf("round trip differs:\n%s", again)
	}
}

// Empty lists and maps are [] and {}, never null, at every level; a
// missing Date is null.
func TestIncomingEmpty(t *testing.T) {
	in := Incoming{Structure: Structure{ContentType: "multipart/mixed", Parts: []Structure{{ContentType: "text/plain"}}}}
	out, err := json.Marshal(in)
	tcheck(t, err, "encode")
	var m map[string]any
	tcheck(t, json.Unmarshal(out, &m), "decode")
	for _, k := range []string{"From", "To", "CC", "BCC", "ReplyTo", "References"} {
		if l, ok := m[k].([]any); !ok || len(l) != 0 {
			t.Fatalf("%s: %v, want []", k, m[k])
		}
	}
	if l, ok := m["Meta"].(map[string]any)["DKIMVerifiedDomains"].([]any); !ok || len(l) != 0 {
		t.Fatalf("DKIMVerifiedDomains not []: %s", out)
	}
	if d, ok := m["Date"]; !ok || d != nil {
		t.Fatalf("Date %v, want null", d)
	}
	sub := m["Structure"].(map[string]any)["Parts"].([]any)[0].(map[string]any)
	if p, ok := sub["ContentTypeParams"].(map[string]any); !ok || len(p) != 0 {
		t.Fatalf("ContentTypeParams not {}: %s", out)
	}
	if p, ok := sub["Parts"].([]any); !ok || len(p) != 0 {
		t.Fatalf("Parts not []: %s", out)
	}
	// The value given is not changed by encoding.
	if in.From != nil || in.Structure.Parts[0].Parts != nil {
		t.Fatalf("MarshalJSON changed its receiver")
	}
}
