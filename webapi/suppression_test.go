package webapi_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webapi"
)

func TestSuppressionMethods(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)

	added, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "John+news@Example.com", Manual: true, Reason: "asked us to stop"})
	tcheck(t, err, "add manual")
	tcompare(t, []any{added.Added, added.Suppression.ID, added.Suppression.BaseAddress}, []any{true, int64(1), "john@example.com"}, "add result")
	expires := t0.Add(24 * time.Hour)
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "gone@example.com", Reason: "app saw a bounce", ExpiresAt: &expires})
	tcheck(t, err, "add automatic")

	res, err := e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{})
	tcheck(t, err, "list")
	want := []webapi.Suppression{
		{ID: 1, Created: t0, Account: "alice", BaseAddress: "john@example.com", OriginalAddress: "John+news@Example.com", Manual: true, Reason: "asked us to stop", Category: suppression.CategoryManual, Source: suppression.SourceAPI, LastSeen: t0},
		{ID: 2, Created: t0, Account: "alice", BaseAddress: "gone@example.com", OriginalAddress: "gone@example.com", Reason: "app saw a bounce", Category: suppression.CategoryHardBounce, Source: suppression.SourceAPI, LastSeen: t0, ExpiresAt: expires},
	}
	tcompare(t, res, webapi.SuppressionListResult{Suppressions: want}, "list")

	// Entry is the library's form, field for field.
	tcompare(t, res.Suppressions[0].Entry(), suppression.Entry{ID: 1, Account: "alice", BaseAddress: "john@example.com", OriginalAddress: "John+news@Example.com", Reason: "asked us to stop", Category: suppression.CategoryManual, Source: suppression.SourceAPI, Created: t0, LastSeen: t0}, "entry")

	// Adding again refreshes.
	added, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "john@example.com", Category: suppression.CategoryComplaint, Source: suppression.SourceARF})
	tcheck(t, err, "add again")
	tcompare(t, []any{added.Added, added.Suppression.ID, added.Suppression.Category, added.Suppression.Source, added.Suppression.Manual}, []any{false, int64(1), suppression.CategoryComplaint, suppression.SourceARF, false}, "refresh result")

	present := func(addr string) bool {
		t.Helper()
		r, err := e.alice.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{EmailAddress: addr})
		tcheck(t, err, "present "+addr)
		return r.Present
	}
	tcompare(t, present("john+other@example.com"), true, "present by base address")
	tcompare(t, present("nobody@example.com"), false, "absent")

	// The expiring entry is in effect until it expires, then neither
	// present nor listed (unless Expired is asked for).
	e.clock.Advance(25 * time.Hour)
	tcompare(t, present("gone@example.com"), false, "expired")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{})
	tcheck(t, err, "list")
	tcompare(t, len(res.Suppressions), 1, "listed after expiry")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Expired: true, Category: suppression.CategoryHardBounce})
	tcheck(t, err, "list expired")
	tcompare(t, len(res.Suppressions), 1, "listed with Expired")
	after := t0.Add(time.Second)
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Expired: true, CreatedAfter: &after})
	tcheck(t, err, "list created after")
	tcompare(t, len(res.Suppressions), 0, "listed created after")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Expired: true, CreatedBefore: &after})
	tcheck(t, err, "list created before")
	tcompare(t, len(res.Suppressions), 2, "listed created before")

	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "JOHN@example.com"})
	tcheck(t, err, "remove")
	tcompare(t, present("john@example.com"), false, "removed")
	_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "john@example.com"})
	tcode(t, err, webapi.CodeNotFound, "remove again")

	// Bad input: nothing written.
	before := e.dump()
	for _, addr := range []string{"", "no-at-sign", "a@b@c", "x@-bad-.example"} {
		_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: addr})
		tcode(t, err, webapi.CodeBadAddress, "add "+addr)
		_, err = e.alice.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{EmailAddress: addr})
		tcode(t, err, webapi.CodeBadAddress, "present "+addr)
		_, err = e.alice.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: addr})
		tcode(t, err, webapi.CodeBadAddress, "remove "+addr)
	}
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "x@example.com", Category: "bogus"})
	tcode(t, err, webapi.CodeUser, "unknown category")
	past := e.clock.Now().Add(-time.Hour)
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "x@example.com", ExpiresAt: &past})
	tcode(t, err, webapi.CodeUser, "expiry in the past")
	_, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Source: "bogus"})
	tcode(t, err, webapi.CodeUser, "unknown source")
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "x@example.com", Source: "bogus"})
	tcode(t, err, webapi.CodeUser, "add with unknown source")
	tcompare(t, e.dump(), before, "database after bad requests")
}

func TestSuppressionListPaging(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(s *webapi.Server) { s.MaxPageSize = 3 })
	for _, a := range []string{"a", "b", "c", "d", "e"} {
		_, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: a + "@example.com", Manual: true})
		tcheck(t, err, "add")
	}
	id := func(s webapi.Suppression) int64 { return s.ID }

	// A mox client sends no Limit: it gets the largest page.
	res, err := e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{})
	tcheck(t, err, "list")
	tcompare(t, msgIDs(res.Suppressions, id), []int64{1, 2, 3}, "first page")
	tcompare(t, res.Next, int64(3), "next")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Page: webapi.Page{After: res.Next, Limit: 1000}})
	tcheck(t, err, "list")
	tcompare(t, msgIDs(res.Suppressions, id), []int64{4, 5}, "second page, capped limit")
	tcompare(t, res.Next, int64(0), "last page")
	res, err = e.alice.SuppressionList(ctx, webapi.SuppressionListRequest{Search: "D@EXAMPLE"})
	tcheck(t, err, "search")
	tcompare(t, msgIDs(res.Suppressions, id), []int64{4}, "search")
}

func TestSuppressionExportImport(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	_, err := e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "one@example.com", Manual: true, Reason: "manual, with a comma"})
	tcheck(t, err, "add")
	_, err = e.bob.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "two@example.com", Manual: true})
	tcheck(t, err, "add")

	export := func(c webapi.Client, req webapi.SuppressionExportRequest) string {
		t.Helper()
		rc, err := c.SuppressionExport(ctx, req)
		tcheck(t, err, "export")
		defer rc.Close()
		buf, err := io.ReadAll(rc)
		tcheck(t, err, "read export")
		return string(buf)
	}
	header := strings.Join(suppression.Columns(), ",") + "\r\n"
	aliceCSV := header + "alice,one@example.com,one@example.com,manual,api,\"manual, with a comma\",,,2026-11-25T10:00:00Z,2026-11-25T10:00:00Z,,,\r\n"
	tcompare(t, export(e.alice, webapi.SuppressionExportRequest{}), aliceCSV, "alice's export")
	all := export(e.ops, webapi.SuppressionExportRequest{})
	tcompare(t, strings.Count(all, "\r\n"), 3, "operator's export lines")
	tcompare(t, export(e.ops, webapi.SuppressionExportRequest{Account: "bob", Search: "nothing"}), header, "empty export")
	_, err = e.alice.SuppressionExport(ctx, webapi.SuppressionExportRequest{Category: "bogus"})
	tcode(t, err, webapi.CodeUser, "export with unknown category")

	// Import alice's export into a fresh server: the same list.
	e2 := newEnv(t, nil)
	res, err := e2.alice.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: aliceCSV})
	tcheck(t, err, "import")
	tcompare(t, res, webapi.SuppressionImportResult{Rows: 1, Added: 1}, "import result")
	tcompare(t, export(e2.alice, webapi.SuppressionExportRequest{}), aliceCSV, "export after import")

	// Everything is checked before anything is written: a bad row, or a
	// row of another account for an account, changes nothing.
	before := e2.dump()
	_, err = e2.alice.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: "account,address\r\nalice,new@example.com\r\nalice,\r\n"})
	tcode(t, err, webapi.CodeUser, "import with an empty address")
	_, err = e2.alice.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: "account,address\r\nalice,new@example.com\r\nbob,x@example.com\r\n"})
	tcode(t, err, webapi.CodeForbidden, "import with another account's row")
	_, err = e2.alice.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: "address\r\nnew@example.com\r\n"})
	tcode(t, err, webapi.CodeUser, "import without account column")
	tcompare(t, e2.dump(), before, "database after refused imports")

	// The operator imports for every account.
	res, err = e2.ops.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: "account,address\r\nalice,new@example.com\r\nbob,x@example.com\r\n"})
	tcheck(t, err, "operator import")
	tcompare(t, res, webapi.SuppressionImportResult{Rows: 2, Added: 2}, "operator import")
}
