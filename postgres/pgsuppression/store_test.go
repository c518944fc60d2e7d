package pgsuppression_test

import (
	"context"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/suppression/suppressiontest"
)

var (
	_ suppressiontest.Store   = (*pgsuppression.Store)(nil)
	_ suppressiontest.Stopper = (*pgsuppression.Store)(nil)
)

// open opens a store on a new schema of t's.
func open(t *testing.T, now func() time.Time) *pgsuppression.Store {
	t.Helper()
	s, err := pgsuppression.Open(context.Background(), pgtest.Pool(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	s.Now = now
	return s
}

func TestConformance(t *testing.T) {
	suppressiontest.Run(t, func(t *testing.T, now func() time.Time) suppressiontest.Store {
		return open(t, now)
	})
}
