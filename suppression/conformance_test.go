package suppression_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/suppression/suppressiontest"
)

// stopStore gives Store the Stop of suppressiontest.Stopper, so that the
// suite also checks the hits StopTx counts.
type stopStore struct {
	*suppression.Store
}

func (s stopStore) Stop(ctx context.Context, account, address string) (e suppression.Entry, ok bool, err error) {
	err = s.DB.Write(ctx, func(tx *bstore.Tx) error {
		e, ok, err = s.StopTx(tx, account, address, s.Now())
		return err
	})
	return
}

var _ suppressiontest.Stopper = stopStore{}

func TestConformance(t *testing.T) {
	suppressiontest.Run(t, func(t *testing.T, now func() time.Time) suppressiontest.Store {
		path := filepath.Join(t.TempDir(), "suppression.db")
		db, err := bstore.Open(context.Background(), path, &bstore.Options{Timeout: 5 * time.Second}, suppression.DBTypes()...)
		if err != nil {
			t.Fatalf("open db: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return stopStore{&suppression.Store{DB: db, Now: now}}
	})
}
