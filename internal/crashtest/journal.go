package crashtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bouncekit/bouncekit/webhook"
)

// Files in the working directory shared by the parent and the child.
const (
	dbFile      = "crash.db"
	journalFile = "journal.jsonl"
	dsnFile     = "dsns.log"
)

// TxMark is inserted by every journaled transaction with the record's
// sequence number: it exists exactly when that transaction was committed.
type TxMark struct {
	ID  int64
	Run int64
}

// Progress is the child's own state in the database, updated in every
// journaled transaction (one record, ID 1).
type Progress struct {
	ID   int64
	Subs int64     // Submissions added.
	Now  time.Time // The simulated clock at the last journaled transaction.
}

// Operations in the journal.
const (
	opAdd      = "add"      // Handler.Add of one submission.
	opDue      = "due"      // Handler.Due, which gives up suppressed recipients.
	opAttempt  = "attempt"  // DeliveredMsgs and FailMsgs for one batch.
	opIncoming = "incoming" // ProcessIncoming of one DSN.
)

// Record is one line of the journal: an intent (written in the
// transaction, before commit) or a confirmation (Confirm, after commit).
type Record struct {
	Seq     int64     `json:"seq"`
	Run     int       `json:"run"`
	Confirm bool      `json:"confirm,omitempty"`
	Op      string    `json:"op,omitempty"`
	Now     time.Time `json:"now"`
	Sub     int64     `json:"sub,omitempty"`
	Msgs    []MsgRec  `json:"msgs,omitempty"`
	DSNs    []DSNRec  `json:"dsns,omitempty"`
	Hooks   []HookRec `json:"hooks,omitempty"`
}

// MsgRec is what one Handler call did to one message, from its Outcome
// (or IncomingOutcome).
type MsgRec struct {
	ID          int64                 `json:"id"`
	BaseID      int64                 `json:"base,omitempty"`
	Account     string                `json:"account,omitempty"`
	Recipient   string                `json:"rcpt"`
	Result      string                `json:"result"`            // queue.Result, or the incoming event.
	Attempt     bool                  `json:"attempt,omitempty"` // Counted as a delivery attempt.
	Call        int                   `json:"call,omitempty"`    // Which Handler call of the transaction: DSNs are grouped per call.
	Code        int                   `json:"code,omitempty"`
	DSN         string                `json:"dsn,omitempty"`
	Hook        webhook.OutgoingEvent `json:"hook,omitempty"`
	Suppressing bool                  `json:"suppressing,omitempty"`
	Retired     bool                  `json:"retired,omitempty"`
	Duplicate   bool                  `json:"duplicate,omitempty"`
}

// DSNRec is a DSN the transaction put in the outbox.
type DSNRec struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	MsgID     int64  `json:"msg"`
	MessageID string `json:"messageid"`
}

// HookRec is a webhook the transaction queued.
type HookRec struct {
	ID        int64                 `json:"id"`
	Event     webhook.OutgoingEvent `json:"event"`
	MsgID     int64                 `json:"msg"`
	Recipient string                `json:"rcpt"`
}

// journal appends records to the journal file. One write per record: a
// SIGKILL cannot tear a write to a regular file, and the page cache keeps
// what was written when the process dies.
type journal struct {
	f *os.File
}

func (j *journal) write(r Record) error {
	buf, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("crashtest: encoding journal record: %w", err)
	}
	if _, err := j.f.Write(append(buf, '\n')); err != nil {
		return fmt.Errorf("crashtest: writing journal: %w", err)
	}
	return nil
}

// confirm writes the confirmation of transaction seq, after its commit.
func (j *journal) confirm(seq int64, run int) error {
	if _, err := fmt.Fprintf(j.f, "{\"seq\":%d,\"run\":%d,\"confirm\":true}\n", seq, run); err != nil {
		return fmt.Errorf("crashtest: writing journal: %w", err)
	}
	return nil
}

// readJournal returns the records of the journal at path. A last line
// without newline (a torn write) is ignored and reported as torn.
func readJournal(path string) (recs []Record, torn bool, err error) {
	buf, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("crashtest: reading journal: %w", err)
	}
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		torn = true
		buf = buf[:bytes.LastIndexByte(buf, '\n')+1]
	}
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, torn, fmt.Errorf("crashtest: journal line %d: %w", len(recs)+1, err)
		}
		recs = append(recs, r)
	}
	return recs, torn, sc.Err()
}

// trimTorn cuts a last line without newline from the file at path. A
// SIGKILL can interrupt a write of more than a page: the journal intent
// it held was not committed (the commit follows the write), and a DSN
// whose line was torn was not reported delivered, so it comes again.
func trimTorn(path string) error {
	buf, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("crashtest: reading %s: %w", path, err)
	}
	if len(buf) == 0 || buf[len(buf)-1] == '\n' {
		return nil
	}
	if err := os.Truncate(path, int64(bytes.LastIndexByte(buf, '\n')+1)); err != nil {
		return fmt.Errorf("crashtest: cutting torn line: %w", err)
	}
	return nil
}

// DSNLine is one DSN handed to the child's DSNDeliverer.
type DSNLine struct {
	OutboxID  int64
	Kind      string
	MsgID     int64
	MessageID string
	Account   string
}

func formatDSNLine(d DSNLine) string {
	return fmt.Sprintf("%d %s %d %s %s\n", d.OutboxID, d.Kind, d.MsgID, d.MessageID, d.Account)
}

// readDSNLines reads the file of delivered DSNs.
func readDSNLines(r io.Reader) ([]DSNLine, error) {
	var l []DSNLine
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var d DSNLine
		if _, err := fmt.Sscanf(sc.Text(), "%d %s %d %s %s", &d.OutboxID, &d.Kind, &d.MsgID, &d.MessageID, &d.Account); err != nil {
			return nil, fmt.Errorf("crashtest: dsn line %q: %w", sc.Text(), err)
		}
		l = append(l, d)
	}
	return l, sc.Err()
}
