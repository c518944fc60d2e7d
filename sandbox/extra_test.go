package sandbox

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/mjl-/bstore"
)

// sendRaw submits msg to rcpt through the submission listener and returns
// the error of the end of DATA.
func (h *harness) sendRaw(rcpt, msg string) error {
	h.t.Helper()
	c, err := smtp.Dial(h.sb.SubmissionAddr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("app@app.example", nil); err != nil {
		h.t.Fatal(err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		h.t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		h.t.Fatal(err)
	}
	return w.Close()
}

// TestSubmissionExtra checks that X-Mox-Extra-* headers come back as the
// webhook's Extra and are not in the message sent, and that a bad one is
// refused at the end of DATA with nothing queued.
func TestSubmissionExtra(t *testing.T) {
	h := newHarness(t, nil)
	const rcpt = "carol@remote.example"
	msg := "From: <app@app.example>\r\nX-Mox-Extra-Order-Id: 4711\r\nSubject: Receipt\r\nx-mox-extra-customer:\r\n c-42\r\nMessage-ID: <r-1@app.example>\r\n\r\nThanks.\r\n"
	if err := h.sendRaw(rcpt, msg); err != nil {
		t.Fatal(err)
	}
	o := h.nextHook(rcpt)
	if o.Extra["Order-Id"] != "4711" || o.Extra["Customer"] != "c-42" || len(o.Extra) != 2 {
		t.Errorf("webhook extra %v, want Order-Id 4711 and Customer c-42", o.Extra)
	}
	var data []byte
	err := h.sb.DB.Read(context.Background(), func(tx *bstore.Tx) error {
		m, err := bstore.QueryTx[Message](tx).Get()
		data = m.Data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "From: <app@app.example>\r\nSubject: Receipt\r\nMessage-ID: <r-1@app.example>\r\n\r\nThanks.\r\n"
	if string(data) != want {
		t.Errorf("message sent:\n%q\nwant\n%q", data, want)
	}

	err = h.sendRaw("dave@remote.example", "From: <app@app.example>\r\nX-Mox-Extra-A: 1\r\nX-Mox-Extra-a: 2\r\nMessage-ID: <r-2@app.example>\r\n\r\nx\r\n")
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 554 || !strings.Contains(se.Message, "duplicate") {
		t.Fatalf("duplicate extra key: got %v, want 554 naming the duplicate", err)
	}
	var n int
	err = h.sb.DB.Read(context.Background(), func(tx *bstore.Tx) (err error) {
		n, err = bstore.QueryTx[Message](tx).Count()
		return err
	})
	if err != nil || n != 1 {
		t.Errorf("%d stored messages after the refused one (err %v), want 1", n, err)
	}
}
