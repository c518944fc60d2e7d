package webapi_test

import (
	"context"
	"io"
	"testing"

	"github.com/bouncekit/bouncekit/webapi"
)

// TestScope has bob call every method that takes an Account naming alice:
// each is refused, the same way whether the account exists or not, and
// nothing changes. Then bob acts on alice's records by ID and filter: he
// sees and changes none of them. The operator may do both.
func TestScope(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	a := e.add("alice", "x@example.com", "y@example.com")
	e.cancel(a[1])
	_, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "s@example.com", Manual: true})
	tcheck(t, err, "add")
	rule, err := e.alice.HoldRuleAdd(ctx, webapi.HoldRuleAddRequest{RecipientDomain: "example.net"})
	tcheck(t, err, "add rule")

	calls := []struct {
		name string
		call func(c webapi.Client, account string) error
	}{
		{"SuppressionList", func(c webapi.Client, acc string) error {
			_, err := c.SuppressionList(ctx, webapi.SuppressionListRequest{Account: acc})
			return err
		}},
		{"SuppressionAdd", func(c webapi.Client, acc string) error {
			_, err := c.SuppressionAdd(ctx, webapi.SuppressionAddRequest{Account: acc, EmailAddress: "t@example.com"})
			return err
		}},
		{"SuppressionRemove", func(c webapi.Client, acc string) error {
			_, err := c.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{Account: acc, EmailAddress: "s@example.com"})
			return err
		}},
		{"SuppressionPresent", func(c webapi.Client, acc string) error {
			_, err := c.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{Account: acc, EmailAddress: "s@example.com"})
			return err
		}},
		{"SuppressionExport", func(c webapi.Client, acc string) error {
			rc, err := c.SuppressionExport(ctx, webapi.SuppressionExportRequest{Account: acc})
			if err == nil {
				_, err = io.Copy(io.Discard, rc)
				rc.Close()
			}
			return err
		}},
		{"RetiredList", func(c webapi.Client, acc string) error {
			_, err := c.RetiredList(ctx, webapi.RetiredListRequest{Account: acc})
			return err
		}},
		{"HookList", func(c webapi.Client, acc string) error {
			_, err := c.HookList(ctx, webapi.HookListRequest{Account: acc})
			return err
		}},
		{"HookRetiredList", func(c webapi.Client, acc string) error {
			_, err := c.HookRetiredList(ctx, webapi.HookRetiredListRequest{Account: acc})
			return err
		}},
		{"HookRetry", func(c webapi.Client, acc string) error {
			_, err := c.HookRetry(ctx, webapi.HookRetryRequest{Account: acc})
			return err
		}},
		{"HookCancel", func(c webapi.Client, acc string) error {
			_, err := c.HookCancel(ctx, webapi.HookCancelRequest{Account: acc})
			return err
		}},
		{"QueueList", func(c webapi.Client, acc string) error {
			_, err := c.QueueList(ctx, webapi.QueueListRequest{Account: acc})
			return err
		}},
		{"QueueHold", func(c webapi.Client, acc string) error {
			_, err := c.QueueHold(ctx, webapi.QueueHoldRequest{Account: acc})
			return err
		}},
		{"QueueRelease", func(c webapi.Client, acc string) error {
			_, err := c.QueueRelease(ctx, webapi.QueueReleaseRequest{Account: acc})
			return err
		}},
		{"QueueReschedule", func(c webapi.Client, acc string) error {
			_, err := c.QueueReschedule(ctx, webapi.QueueRescheduleRequest{Account: acc})
			return err
		}},
		{"QueueFail", func(c webapi.Client, acc string) error {
			_, err := c.QueueFail(ctx, webapi.QueueFailRequest{Account: acc})
			return err
		}},
		{"QueueCancel", func(c webapi.Client, acc string) error {
			_, err := c.QueueCancel(ctx, webapi.QueueCancelRequest{Account: acc})
			return err
		}},
		{"HoldRuleList", func(c webapi.Client, acc string) error {
			_, err := c.HoldRuleList(ctx, webapi.HoldRuleListRequest{Account: acc})
			return err
		}},
		{"HoldRuleAdd", func(c webapi.Client, acc string) error {
			_, err := c.HoldRuleAdd(ctx, webapi.HoldRuleAddRequest{Account: acc})
			return err
		}},
	}
	before := e.dump()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			for _, acc := range []string{"alice", "nosuchaccount"} {
				err := c.call(e.bob, acc)
				tcode(t, err, webapi.CodeForbidden, "bob naming "+acc)
				if err.(*webapi.Error).Message != `account "`+acc+`" is not the authenticated account` {
					t.Fatalf("message %q", err.(*webapi.Error).Message)
				}
			}
		})
	}
	tcompare(t, e.dump(), before, "database after refused calls")

	// By ID and filter: bob sees none of alice's records and changes none.
	byID := webapi.QueueFilter{IDs: []int64{a[0].ID}}
	ql, err := e.bob.QueueList(ctx, webapi.QueueListRequest{QueueFilter: byID})
	tcheck(t, err, "queue list")
	tcompare(t, len(ql.Messages), 0, "bob lists alice's message")
	for name, call := range map[string]func() (int, error){
		"hold": func() (int, error) {
			r, err := e.bob.QueueHold(ctx, webapi.QueueHoldRequest{QueueFilter: byID})
			return r.Matched, err
		},
		"reschedule": func() (int, error) {
			r, err := e.bob.QueueReschedule(ctx, webapi.QueueRescheduleRequest{QueueFilter: byID})
			return r.Matched, err
		},
		"fail": func() (int, error) {
			r, err := e.bob.QueueFail(ctx, webapi.QueueFailRequest{QueueFilter: byID})
			return len(r.Outcomes), err
		},
		"cancel": func() (int, error) {
			r, err := e.bob.QueueCancel(ctx, webapi.QueueCancelRequest{All: true})
			return len(r.Outcomes), err
		},
		"hook cancel": func() (int, error) {
			r, err := e.bob.HookCancel(ctx, webapi.HookCancelRequest{All: true})
			return r.Canceled, err
		},
		"suppression present": func() (int, error) {
			r, err := e.bob.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{EmailAddress: "s@example.com"})
			if r.Present {
				return 1, err
			}
			return 0, err
		},
	} {
		n, err := call()
		tcheck(t, err, name)
		tcompare(t, n, 0, name+": alice's records touched by bob")
	}
	_, err = e.bob.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "s@example.com"})
	tcode(t, err, webapi.CodeNotFound, "bob removes alice's entry")
	_, err = e.bob.HoldRuleRemove(ctx, webapi.HoldRuleRemoveRequest{ID: rule.Rule.ID})
	tcode(t, err, webapi.CodeNotFound, "bob removes alice's rule")
	_, err = e.bob.RetiredGet(ctx, webapi.RetiredGetRequest{ID: a[1].ID})
	tcode(t, err, webapi.CodeNotFound, "bob gets alice's retired message")
	tcompare(t, e.dump(), before, "database after bob's calls")

	// The operator names alice, and acts on her records: the Account is
	// the filter that the changing methods need.
	for _, c := range calls[:len(calls)-1] { // Not HoldRuleAdd: its rule would hold all of alice's mail.
		tcheck(t, c.call(e.ops, "alice"), "operator "+c.name)
	}
	ql, err = e.ops.QueueList(ctx, webapi.QueueListRequest{})
	tcheck(t, err, "operator's queue list")
	tcompare(t, len(ql.Messages), 0, "alice's queue after the operator's fail and cancel")
}
