package sandbox

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

func TestAnswerFor(t *testing.T) {
	type want struct {
		stage    bounce.Stage
		code     int
		ec       smtp.EnhancedCode
		stall    bool
		greylist bool
		later    queue.IncomingKind
	}
	for _, tc := range []struct {
		lp   string
		want want
	}{
		{"alice", want{}},
		{"", want{}},
		{"temperror", want{stage: bounce.StageDataEnd, code: 451, ec: smtp.EnhancedCode{4, 0, 0}}},
		{"TempError", want{stage: bounce.StageDataEnd, code: 451, ec: smtp.EnhancedCode{4, 0, 0}}},
		{"permerror", want{stage: bounce.StageDataEnd, code: 550, ec: smtp.EnhancedCode{5, 0, 0}}},
		{"rcptto-permerror", want{stage: bounce.StageRcpt, code: 550, ec: smtp.EnhancedCode{5, 0, 0}}},
		{"mailfromtemperror", want{stage: bounce.StageMail, code: 451, ec: smtp.EnhancedCode{4, 0, 0}}},
		{"datatemperror", want{stage: bounce.StageDataEnd, code: 451, ec: smtp.EnhancedCode{4, 0, 0}}},
		{"user550", want{stage: bounce.StageDataEnd, code: 550, ec: smtp.EnhancedCode{5, 0, 0}}},
		{"user421", want{stage: bounce.StageDataEnd, code: 421, ec: smtp.EnhancedCode{4, 0, 0}}},
		{"550", want{stage: bounce.StageDataEnd, code: 550, ec: smtp.EnhancedCode{5, 0, 0}}},
		{"user550-5.1.1", want{stage: bounce.StageDataEnd, code: 550, ec: smtp.EnhancedCode{5, 1, 1}}},
		{"rcpttouser452-4.2.2", want{stage: bounce.StageRcpt, code: 452, ec: smtp.EnhancedCode{4, 2, 2}}},
		{"user554-5.7.26", want{stage: bounce.StageDataEnd, code: 554, ec: smtp.EnhancedCode{5, 7, 26}}},
		// The enhanced code's class must be the reply's.
		{"user550-4.1.1", want{}},
		{"user550-5.1", want{}},
		{"user550-5.1.1000", want{}},
		{"user399", want{}},
		{"user600", want{}},
		{"user55", want{}},
		{"timeout", want{stage: bounce.StageDataEnd, stall: true}},
		{"rcpttotimeout", want{stage: bounce.StageRcpt, stall: true}},
		{"greylist", want{stage: bounce.StageDataEnd, code: 451, ec: smtp.EnhancedCode{4, 7, 1}, greylist: true}},
		{"rcpttogreylist", want{stage: bounce.StageRcpt, code: 451, ec: smtp.EnhancedCode{4, 7, 1}, greylist: true}},
		{"mailboxfull", want{stage: bounce.StageDataEnd, code: 552, ec: smtp.EnhancedCode{5, 2, 2}}},
		{"asyncdsn", want{stage: bounce.StageDataEnd, later: queue.IncomingDSN}},
		{"complaint", want{stage: bounce.StageDataEnd, later: queue.IncomingFeedback}},
		{"autoreply", want{stage: bounce.StageDataEnd, later: queue.IncomingAutoReply}},
		// A prefix alone chooses nothing.
		{"rcptto", want{}},
		{"mailfrom", want{}},
	} {
		t.Run(tc.lp, func(t *testing.T) {
			a := AnswerFor(tc.lp)
			got := want{stage: a.Stage, stall: a.Stall, greylist: a.Greylist, later: a.Later}
			if a.Reply != nil {
				got.code, got.ec = a.Reply.Code, a.Reply.EnhancedCode
				if a.Reply.Message == "" {
					t.Errorf("reply without text")
				}
			}
			if got != tc.want {
				t.Errorf("AnswerFor(%q) = %+v, want %+v", tc.lp, got, tc.want)
			}
		})
	}
}

// TestConventionsDocumented checks that the package documentation shows
// the table that Conventions holds, line for line.
func TestConventionsDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	for _, line := range strings.Split(strings.TrimSpace(Conventions), "\n") {
		if line == "" {
			continue
		}
		if !strings.Contains(doc, "\t"+line+"\n") {
			t.Errorf("package documentation lacks the line %q", line)
		}
	}
}
