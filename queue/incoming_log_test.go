package queue_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// TestIncomingLog checks what ProcessIncoming logs at each level: a line
// per recipient at info, with the report's and the outcome's attributes,
// and a warning for a report with too many recipients; nothing the level
// leaves out.
func TestIncomingLog(t *testing.T) {
	tests := []struct {
		name      string
		level     slog.Level
		truncated bool
		infos     int // "incoming report" lines.
		warns     int // Too many recipients.
	}{
		{name: "info", level: slog.LevelInfo, infos: 1},
		{name: "warn", level: slog.LevelWarn},
		{name: "info, too many recipients", level: slog.LevelInfo, truncated: true, infos: queue.MaxIncomingRecipients, warns: 1},
		{name: "warn, too many recipients", level: slog.LevelWarn, truncated: true, warns: 1},
		{name: "error, too many recipients", level: slog.LevelError, truncated: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newInEnv(t)
			var buf bytes.Buffer
			e.h.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level}))
			m := e.send("alice", nil, "bob@example.com")[0]
			rcpts := []dsn.Recipient{failedRcpt("bob@example.com", "5.1.1", "smtp; 550 5.1.1 user unknown")}
			if tc.truncated {
				for i := range queue.MaxIncomingRecipients {
					rcpts = append(rcpts, failedRcpt(fmt.Sprintf("other%d@example.com", i), "5.1.1", "smtp; 550 5.1.1 user unknown"))
				}
			}
			buf.Reset() // Only what ProcessIncoming logs.
			res := e.incoming("alice", m.MailFrom("+"), composeDSN(t, "<log@mx.example.com>", "", nil, rcpts...))
			icompare(t, res.Truncated, tc.truncated, "truncated")
			icompare(t, strings.Count(buf.String(), `msg="incoming report"`), tc.infos, "info lines")
			icompare(t, strings.Count(buf.String(), "too many recipients"), tc.warns, "warnings")
			if tc.infos > 0 {
				first, _, _ := strings.Cut(buf.String(), "\n")
				for _, want := range []string{"account=alice", "kind=dsn", "messageid=log@mx.example.com", "recipient=bob@example.com", "event=failed", "match=fromid", fmt.Sprintf("msgid=%d", m.ID), "enhancedcode=5.1.1"} {
					if !strings.Contains(first, want) {
						t.Errorf("first line %q lacks %s", first, want)
					}
				}
			}
		})
	}
}
