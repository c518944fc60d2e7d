package webapi_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webapi"
)

// ExampleServer mounts the API under /webapi/v0/ of a host's HTTP server,
// with the host's own password check, and calls it with the Client as an
// application would.
func ExampleServer() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "webapi-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bstore.Open(ctx, filepath.Join(dir, "mail.db"), nil, queue.DBTypes()...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// The host's account lookup: an unknown user and a wrong password both
	// give ErrBadCredentials.
	auth := func(ctx context.Context, username, password string) (webapi.Identity, error) {
		if username == "app@example.com" && subtle.ConstantTimeCompare([]byte(password), []byte("s3cret")) == 1 {
			return webapi.Identity{Account: "app"}, nil
		}
		return webapi.Identity{}, webapi.ErrBadCredentials
	}
	api := &webapi.Server{DB: db, Auth: webapi.BasicAuth(auth)}

	mux := http.NewServeMux()
	mux.Handle("/webapi/v0/", http.StripPrefix("/webapi/v0", api))
	ts := httptest.NewServer(mux)
	defer ts.Close()

	client := webapi.Client{
		BaseURL:    ts.URL + "/webapi/v0/",
		Username:   "app@example.com",
		Password:   "s3cret",
		HTTPClient: ts.Client(),
	}
	_, err = client.SuppressionAdd(ctx, webapi.SuppressionAddRequest{EmailAddress: "Someone+news@example.org", Manual: true, Reason: "unsubscribed"})
	if err != nil {
		log.Fatal(err)
	}
	present, err := client.SuppressionPresent(ctx, webapi.SuppressionPresentRequest{EmailAddress: "someone@example.org"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("present:", present.Present)

	_, err = client.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: "other@example.org"})
	var apiErr *webapi.Error
	if errors.As(err, &apiErr) {
		fmt.Println("error code:", apiErr.Code)
	}
	// Output:
	// present: true
	// error code: notFound
}
