package webapi_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webapi"
	"github.com/bouncekit/bouncekit/webapi/webapitest"
)

// TestConformance runs the suite the PostgreSQL stores also run against
// the default storage: the suppression list and webhook queue in DB.
func TestConformance(t *testing.T) {
	webapitest.Run(t, func(t *testing.T, now func() time.Time) webapitest.Backend {
		db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"), &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
		tcheck(t, err, "open db")
		t.Cleanup(func() { db.Close() })
		hooks := &hookqueue.Queue{DB: db, Now: now}
		return webapitest.Backend{
			Server: &webapi.Server{DB: db, Hooks: hooks},
			AddHooks: func(ctx context.Context, l ...hookqueue.Hook) error {
				return db.Write(ctx, func(tx *bstore.Tx) error { return hooks.Enqueue(tx, l...) })
			},
		}
	})
}
