package webapitest

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webapi"
)

func suppressionID(s webapi.Suppression) int64 { return s.ID }

// export returns the CSV of c's export of req.
func export(t *testing.T, c webapi.Client, req webapi.SuppressionExportRequest) string {
	t.Helper()
	rc, err := c.SuppressionExport(context.Background(), req)
	tcheck(t, err, "export")
	defer rc.Close()
	buf, err := io.ReadAll(rc)
	tcheck(t, err, "read export")
	return string(buf)
}

// present tells whether c finds address suppressed in account.
func present(t *testing.T, c webapi.Client, account, address string) bool {
	t.Helper()
	r, err := c.SuppressionPresent(context.Background(), webapi.SuppressionPresentRequest{Account: account, EmailAddress: address})
	tcheck(t, err, "present "+address)
	return r.Present
}

// add adds address to c's list and returns the entry.
func add(t *testing.T, c webapi.Client, address string) webapi.Suppression {
	t.Helper()
	r, err := c.SuppressionAdd(context.Background(), webapi.SuppressionAddRequest{EmailAddress: address, Manual: true})
	tcheck(t, err, "add "+address)
	return r.Suppression
}

// dump is every entry of every account, expired or not, as the operator
// exports them: to compare before and after calls that must change
// nothing.
func (e *env) dump(t *testing.T) string {
	t.Helper()
	return export(t, e.ops, webapi.SuppressionExportRequest{})
}

// Adding, refreshing, looking up by base address, expiry, filters and
// removal.
func testSuppressionMethods(t *testing.T, open Open) {
	ctx := context.Background()
	e := newEnv(t, open, nil)

	added, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "John+news@Example.com", Manual: true, Reason: "asked us to stop"})
	tcheck(t, err, "add manual")
	tcompare(t, []any{added.Added, added.Suppression.BaseAddress}, []any{true, "john@example.com"}, "add result")
	id1 := added.Suppression.ID
	expires := t0.Add(24 * time.Hour)
	added, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "gone@example.com", Reason: "app saw a bounce", ExpiresAt: &expires})
	tcheck(t, err, "add automatic")
	id2 := added.Suppression.ID
	if id1 <= 0 || id2 <= id1 {
		t.Fatalf("IDs %d, %d: not positive and ascending", id1, id2)
	}

	res, err := e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{})
	tcheck(t, err, "list")
	want := []webapi.Suppression{
		{ID: id1, Created: t0, Account: "alice", BaseAddress: "john@example.com", OriginalAddress: "John+news@Example.com", Manual: true, Reason: "asked us to stop", Category: suppression.CategoryManual, Source: suppression.SourceAPI, LastSeen: t0},
		{ID: id2, Created: t0, Account: "alice", BaseAddress: "gone@example.com", OriginalAddress: "gone@example.com", Reason: "app saw a bounce", Category: suppression.CategoryHardBounce, Source: suppression.SourceAPI, LastSeen: t0, ExpiresAt: expires},
	}
	tcompare(t, res, webapi.SuppressionListResult{Suppressions: want}, "list")
	tcompare(t, added.Suppression, want[1], "add returns the stored entry")

	// Adding again refreshes, at the time of the call.
	e.clock.Advance(time.Minute)
	added, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "john@example.com", Category: suppression.CategoryComplaint, Source: suppression.SourceARF})
	tcheck(t, err, "add again")
	s := added.Suppression
	tcompare(t, []any{added.Added, s.ID, s.Category, s.Source, s.Manual, s.Created, s.LastSeen}, []any{false, id1, suppression.CategoryComplaint, suppression.SourceARF, false, t0, t0.Add(time.Minute)}, "refresh result")

	tcompare(t, present(t, e.alice, "", "john+other@example.com"), true, "present by base address")
	tcompare(t, present(t, e.alice, "", "nobody@example.com"), false, "absent")
	tcompare(t, present(t, e.alice, "", "gone@example.com"), true, "not yet expired")

	// The expiring entry is in effect until it expires, then neither
	// present nor listed (unless Expired is asked for).
	e.clock.Advance(25 * time.Hour)
	tcompare(t, present(t, e.alice, "", "gone@example.com"), false, "expired")
	list := func(req webapi.SuppressionListRequest) []int64 {
		t.Helper()
		res, err := e.alice.SuppressionList(ctx, req)
		tcheck(t, err, "list")
		return ids(res.Suppressions, suppressionID)
	}
	after := t0.Add(time.Second)
	tests := []struct {
		name string
		req  webapi.SuppressionListRequest
		want []int64
	}{
		{"in effect", webapi.SuppressionListRequest{}, []int64{id1}},
		{"expired too", webapi.SuppressionListRequest{Expired: true}, []int64{id1, id2}},
		{"category", webapi.SuppressionListRequest{Expired: true, Category: suppression.CategoryHardBounce}, []int64{id2}},
		{"source", webapi.SuppressionListRequest{Expired: true, Source: suppression.SourceARF}, []int64{id1}},
		{"created after", webapi.SuppressionListRequest{Expired: true, CreatedAfter: &after}, []int64{}},
		{"created before", webapi.SuppressionListRequest{Expired: true, CreatedBefore: &after}, []int64{id1, id2}},
		{"search", webapi.SuppressionListRequest{Expired: true, Search: "GONE@"}, []int64{id2}},
		{"newest first", webapi.SuppressionListRequest{Expired: true, Page: webapi.Page{Newest: true}}, []int64{id2, id1}},
	}
	for _, tc := range tests {
		tcompare(t, list(tc.req), tc.want, tc.name)
	}

	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "JOHN@example.com"})
	tcheck(t, err, "remove")
	tcompare(t, present(t, e.alice, "", "john@example.com"), false, "removed")
	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "john@example.com"})
	tcode(t, err, webapi.CodeNotFound, "remove again")
	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "gone@example.com"})
	tcheck(t, err, "remove an expired entry")
	tcompare(t, list(webapi.SuppressionListRequest{Expired: true}), []int64{}, "all removed")
}

// Bad input gets a code and changes nothing.
func testSuppressionBadInput(t *testing.T, open Open) {
	ctx := context.Background()
	e := newEnv(t, open, nil)
	add(t, e.alice, "kept@example.com")
	before := e.dump(t)
	for _, addr := range []string{"", "no-at-sign", "a@b@c", "x@-bad-.example"} {
		_, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: addr})
		tcode(t, err, webapi.CodeBadAddress, "add "+addr)
		_, err = e.alice.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{EmailAddress: addr})
		tcode(t, err, webapi.CodeBadAddress, "present "+addr)
		_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: addr})
		tcode(t, err, webapi.CodeBadAddress, "remove "+addr)
	}
	_, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "x@example.com", Category: "bogus"})
	tcode(t, err, webapi.CodeUser, "unknown category")
	past := t0.Add(-time.Hour)
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "x@example.com", ExpiresAt: &past})
	tcode(t, err, webapi.CodeUser, "expiry in the past")
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "x@example.com", Source: "bogus"})
	tcode(t, err, webapi.CodeUser, "add with unknown source")
	_, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Source: "bogus"})
	tcode(t, err, webapi.CodeUser, "list with unknown source")
	_, err = e.alice.SuppressionExport(ctx, webapi.SuppressionExportRequest{Category: "bogus"})
	tcode(t, err, webapi.CodeUser, "export with unknown category")
	tcompare(t, e.dump(t), before, "list after bad requests")
}

// A mox client sends no Limit and gets the largest page; Next pages on.
func testSuppressionPaging(t *testing.T, open Open) {
	ctx := context.Background()
	e := newEnv(t, open, func(s *webapi.Server) { s.MaxPageSize = 3 })
	var id []int64
	for _, a := range []string{"a", "b", "c", "d", "e"} {
		id = append(id, add(t, e.alice, a+"@example.com").ID)
	}
	res, err := e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{})
	tcheck(t, err, "list")
	tcompare(t, ids(res.Suppressions, suppressionID), id[:3], "first page")
	tcompare(t, res.Next, id[2], "next")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Page: webapi.Page{After: res.Next, Limit: 1000}})
	tcheck(t, err, "list")
	tcompare(t, ids(res.Suppressions, suppressionID), id[3:], "second page, capped limit")
	tcompare(t, res.Next, int64(0), "last page")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Page: webapi.Page{Newest: true, Limit: 2}})
	tcheck(t, err, "list newest")
	tcompare(t, ids(res.Suppressions, suppressionID), []int64{id[4], id[3]}, "newest page")
	tcompare(t, res.Next, id[3], "newest next")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Page: webapi.Page{Newest: true, Limit: 2, After: res.Next}})
	tcheck(t, err, "list newest")
	tcompare(t, ids(res.Suppressions, suppressionID), []int64{id[2], id[1]}, "second newest page")
}

// An export imports into an empty list as the same list; an import is
// checked completely before anything is written.
func testSuppressionExportImport(t *testing.T, open Open) {
	ctx := context.Background()
	e := newEnv(t, open, nil)
	_, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "one@example.com", Manual: true, Reason: "manual, with a comma"})
	tcheck(t, err, "add")
	add(t, e.bob, "two@example.com")

	header := strings.Join(suppression.Columns(), ",") + "\r\n"
	aliceCSV := header + "alice,one@example.com,one@example.com,manual,api,\"manual, with a comma\",,,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,,,\r\n"
	tcompare(t, export(t, e.alice, webapi.SuppressionExportRequest{}), aliceCSV, "alice's export")
	tcompare(t, strings.Count(e.dump(t), "\r\n"), 3, "operator's export lines")
	tcompare(t, export(t, e.ops, webapi.SuppressionExportRequest{Account: "bob", Search: "nothing"}), header, "empty export")

	// Import alice's export into an empty list: the same list.
	e2 := newEnv(t, open, nil)
	res, err := e2.alice.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: aliceCSV})
	tcheck(t, err, "import")
	tcompare(t, res, webapi.SuppressionImportResult{Rows: 1, Added: 1}, "import result")
	tcompare(t, export(t, e2.alice, webapi.SuppressionExportRequest{}), aliceCSV, "export after import")

	// A bad row, or a row of another account for an account, changes
	// nothing, not even the rows before it.
	before := e2.dump(t)
	refused := []struct {
		name string
		csv  string
		code webapi.ErrorCode
	}{
		{"empty address", "account,address\r\nalice,new@example.com\r\nalice,\r\n", webapi.CodeUser},
		{"another account's row", "account,address\r\nalice,new@example.com\r\nbob,x@example.com\r\n", webapi.CodeForbidden},
		{"no account column", "address\r\nnew@example.com\r\n", webapi.CodeUser},
		{"unknown category", "account,address,category\r\nalice,new@example.com,manual\r\nalice,y@example.com,bogus\r\n", webapi.CodeUser},
	}
	for _, tc := range refused {
		_, err = e2.alice.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: tc.csv})
		tcode(t, err, tc.code, "import with "+tc.name)
	}
	tcompare(t, e2.dump(t), before, "list after refused imports")
	tcompare(t, present(t, e2.alice, "", "new@example.com"), false, "first row of a refused import")

	// The operator imports for every account; a row for a listed address
	// refreshes its entry.
	res, err = e2.ops.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: "account,address\r\nalice,new@example.com\r\nbob,x@example.com\r\nalice,one@example.com\r\n"})
	tcheck(t, err, "operator import")
	tcompare(t, res, webapi.SuppressionImportResult{Rows: 3, Added: 2, Updated: 1}, "operator import")
	tcompare(t, present(t, e2.ops, "bob", "x@example.com"), true, "bob's imported row")
}

// An account sees and changes only its own list; the operator all.
func testSuppressionScope(t *testing.T, open Open) {
	ctx := context.Background()
	e := newEnv(t, open, nil)
	a := add(t, e.alice, "a@example.com")
	b := add(t, e.bob, "b@example.com")
	shared := add(t, e.bob, "a@example.com") // The same address on bob's own list.

	list := func(c webapi.Client, account string) []int64 {
		t.Helper()
		res, err := c.SuppressionList(ctx, webapi.SuppressionListRequest{Account: account})
		tcheck(t, err, "list")
		return ids(res.Suppressions, suppressionID)
	}
	tcompare(t, list(e.alice, ""), []int64{a.ID}, "alice's list")
	tcompare(t, list(e.bob, "bob"), []int64{b.ID, shared.ID}, "bob's list")
	tcompare(t, list(e.ops, ""), []int64{a.ID, b.ID, shared.ID}, "operator's list")
	tcompare(t, list(e.ops, "bob"), []int64{b.ID, shared.ID}, "operator's list of bob")
	tcompare(t, present(t, e.alice, "", "b@example.com"), false, "bob's address for alice")
	tcompare(t, present(t, e.ops, "bob", "b@example.com"), true, "bob's address for the operator")
	tcompare(t, strings.Count(export(t, e.alice, webapi.SuppressionExportRequest{}), "\r\n"), 2, "alice's export lines")

	_, err := e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Account: "bob"})
	tcode(t, err, webapi.CodeForbidden, "list naming bob")
	_, err = e.alice.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{Account: "bob", EmailAddress: "b@example.com"})
	tcode(t, err, webapi.CodeForbidden, "present naming bob")
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{Account: "bob", EmailAddress: "c@example.com"})
	tcode(t, err, webapi.CodeForbidden, "add naming bob")
	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{Account: "bob", EmailAddress: "b@example.com"})
	tcode(t, err, webapi.CodeForbidden, "remove naming bob")
	_, err = e.alice.SuppressionExport(ctx, webapi.SuppressionExportRequest{Account: "bob"})
	tcode(t, err, webapi.CodeForbidden, "export naming bob")
	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "b@example.com"})
	tcode(t, err, webapi.CodeNotFound, "remove bob's address from alice's list")
	_, err = e.ops.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "c@example.com"})
	tcode(t, err, webapi.CodeUser, "operator without an account adds")

	// Removing alice's entry leaves bob's of the same address.
	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "a@example.com"})
	tcheck(t, err, "remove")
	tcompare(t, present(t, e.bob, "", "a@example.com"), true, "bob's entry of alice's removed address")
	_, err = e.ops.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{Account: "bob", EmailAddress: "b@example.com"})
	tcheck(t, err, "operator removes bob's")
	tcompare(t, list(e.bob, ""), []int64{shared.ID}, "bob's list after the operator's remove")
}
