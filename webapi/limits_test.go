package webapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/webapi"
)

func form(request string) string {
	return url.Values{"request": {request}}.Encode()
}

const formType = "application/x-www-form-urlencoded"

// TestBadRequests sends malformed calls: each gets a 400 with an Error
// object naming the problem, and nothing is written.
func TestBadRequests(t *testing.T) {
	e := newEnv(t, func(s *webapi.Server) { s.MaxBodyBytes = 200; s.MaxImportBytes = 400 })
	e.add("alice", "x@example.com")
	big := strings.Repeat("x", 300)

	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		code        webapi.ErrorCode
		message     string // Part of the message.
	}{
		{"unknown method", "SuppressionDrop", formType, form(`{}`), webapi.CodeUnknownMethod, `"SuppressionDrop"`},
		{"nested path", "v0/SuppressionAdd", formType, form(`{}`), webapi.CodeUnknownMethod, "unknown method"},
		{"unknown field", "SuppressionAdd", formType, form(`{"EmailAddress": "x@example.com", "Bogus": 1}`), webapi.CodeProtocol, `"Bogus"`},
		{"unknown field in json body", "QueueHold", "application/json", `{"All": true, "Everything": true}`, webapi.CodeProtocol, `"Everything"`},
		{"bad json", "SuppressionAdd", formType, form(`{"EmailAddress": `), webapi.CodeProtocol, "parsing request"},
		{"wrong type", "QueueHold", formType, form(`{"All": "yes"}`), webapi.CodeProtocol, "parsing request"},
		{"data after the object", "QueueHold", formType, form(`{"All": true} {"All": true}`), webapi.CodeProtocol, "data after"},
		{"missing request", "QueueHold", formType, "other=1", webapi.CodeProtocol, "missing"},
		{"empty json body", "QueueHold", "application/json", "", webapi.CodeProtocol, "missing"},
		{"no content type", "QueueHold", "", form(`{"All": true}`), webapi.CodeProtocol, "content-type"},
		{"unsupported content type", "QueueHold", "text/plain", `{"All": true}`, webapi.CodeProtocol, "text/plain"},
		{"too large form", "SuppressionAdd", formType, form(`{"EmailAddress": "` + big + `@example.com"}`), webapi.CodeTooLarge, "200 bytes"},
		{"too large json", "SuppressionAdd", "application/json", `{"EmailAddress": "` + big + `@example.com"}`, webapi.CodeTooLarge, "200 bytes"},
		{"too large import", "SuppressionImport", "application/json", `{"CSV": "account,address\n` + big + big + `"}`, webapi.CodeTooLarge, "400 bytes"},
		{"operator only field", "QueueHold", "application/json", `{"Account": "bob", "All": true}`, webapi.CodeForbidden, `"bob"`},
	}
	before := e.dump()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.post("alice", tc.method, tc.contentType, tc.body)
			tcompare(t, status, http.StatusBadRequest, "status")
			var got webapi.Error
			tcheck(t, json.Unmarshal([]byte(body), &got), "error object")
			if got.Code != tc.code || !strings.Contains(got.Message, tc.message) {
				t.Fatalf("got %+v, want code %q and message with %q", got, tc.code, tc.message)
			}
		})
	}
	tcompare(t, e.dump(), before, "database after bad requests")

	// An import may be larger than other requests.
	csv := "account,address\n" + strings.Repeat("alice,a@example.com\n", 12)
	res, err := e.alice.SuppressionImport(context.Background(), webapi.SuppressionImportRequest{CSV: csv})
	tcheck(t, err, "import larger than MaxBodyBytes")
	tcompare(t, res.Rows, 12, "rows")
}

func TestRequestForms(t *testing.T) {
	e := newEnv(t, nil)
	e.add("alice", "x@example.com")

	// A JSON body.
	status, body := e.post("alice", "QueueHold", "application/json; charset=utf-8", `{"All": true}`)
	tcompare(t, []any{status, body}, []any{http.StatusOK, `{"Matched":1,"Changed":1,"IDs":[1]}` + "\n"}, "json body")

	// multipart/form-data, as curl --form sends.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	tcheck(t, mw.WriteField("request", `{"All": true}`), "write field")
	tcheck(t, mw.Close(), "close multipart")
	status, body = e.post("alice", "QueueRelease", mw.FormDataContentType(), buf.String())
	tcompare(t, []any{status, body}, []any{http.StatusOK, `{"Matched":1,"Changed":1,"IDs":[1]}` + "\n"}, "multipart body")

	// GET of a method is not a call; GET of the base lists the methods.
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/QueueHold", nil)
	tcheck(t, err, "new request")
	status, _ = e.do(req)
	tcompare(t, status, http.StatusMethodNotAllowed, "get of a method")
	req, err = http.NewRequest(http.MethodGet, e.ts.URL+"/", nil)
	tcheck(t, err, "new request")
	status, body = e.do(req)
	tcompare(t, status, http.StatusOK, "index")
	for _, m := range e.srv.Methods() {
		if !strings.Contains(body, "\n"+m+"\n") {
			t.Fatalf("index lacks %s:\n%s", m, body)
		}
	}
	tcompare(t, len(e.srv.Methods()), 21, "methods")
}

func TestPageSizeCap(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(s *webapi.Server) { s.MaxPageSize = 2 })
	m := e.add("alice", "a@example.com", "b@example.com", "c@example.com")
	res, err := e.alice.QueueList(ctx, webapi.QueueListRequest{Page: webapi.Page{Limit: 500}})
	tcheck(t, err, "list")
	tcompare(t, msgIDs(res.Messages, msgID), []int64{m[0].ID, m[1].ID}, "capped page")
	tcompare(t, res.Next, m[1].ID, "next")

	// Without Limit: paging.DefaultLimit, but never more than the cap.
	res, err = e.alice.QueueList(ctx, webapi.QueueListRequest{})
	tcheck(t, err, "list")
	tcompare(t, len(res.Messages), 2, "default page")
}

func TestTimeout(t *testing.T) {
	e := newEnv(t, func(s *webapi.Server) { s.Timeout = time.Nanosecond })
	_, err := e.alice.QueueList(context.Background(), webapi.QueueListRequest{})
	tcode(t, err, webapi.CodeTimeout, "call past its deadline")
}

// A Server without a database answers every call, a streamed one too,
// with a "server" error instead of a half response.
func TestNoDB(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(s *webapi.Server) { s.DB = nil })
	_, err := e.alice.QueueList(ctx, webapi.QueueListRequest{})
	tcode(t, err, webapi.CodeServer, "list")
	_, err = e.alice.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "x@example.com"})
	tcode(t, err, webapi.CodeServer, "add")
	_, err = e.alice.SuppressionExport(ctx, webapi.SuppressionExportRequest{})
	tcode(t, err, webapi.CodeServer, "export")
}
