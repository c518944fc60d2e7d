// Package plantest checks which index a bstore query uses and how many
// records it reads, for the query plan tests of queue, suppression and
// hookqueue. bstore chooses between equally usable indexes in map order,
// which is random per query, so each case runs Runs times: a wrong plan
// cannot pass by luck.
package plantest

import (
	"context"
	"fmt"
	"testing"

	"github.com/mjl-/bstore"
)

// Runs is how often each case runs.
const Runs = 50

// The plans a Case can expect.
const (
	Index  = "index"  // An index scan.
	Unique = "unique" // A lookup through a unique index.
	PK     = "pk"     // A get by primary key.
	PKScan = "pkscan" // A scan of the primary key (in ID order, usually bounded by a cursor).
	Any    = "any"    // Only: no query scans a whole table (for calls that run many queries).
)

// Case is one query (or call) to check.
type Case struct {
	Name string

	// Run runs the query in tx, a write transaction rolled back after
	// each run, so a case may change records.
	Run func(tx *bstore.Tx) error

	Type  string // The type of the last query, e.g. "MsgRetired".
	Index string // The index of the last query; empty for the primary key.
	Plan  string // Index, Unique, PK, PKScan or Any.

	// MaxReads bounds the records-bucket gets and cursor steps plus the
	// index cursor steps of one run.
	MaxReads uint
}

// Plan names the plan the statistics of one run show, or "mixed ..." when
// they show more than one kind (or a table scan).
func Plan(d bstore.Stats) string {
	switch {
	case d.PlanTableScan > 0:
	case d.PlanIndexScan > 0 && d.PlanPKScan == 0 && d.PlanUnique == 0 && d.PlanPK == 0:
		return Index
	case d.PlanUnique > 0 && d.PlanPKScan == 0 && d.PlanIndexScan == 0:
		return Unique
	case d.PlanPK > 0 && d.PlanPKScan == 0 && d.PlanIndexScan == 0 && d.PlanUnique == 0:
		return PK
	case d.PlanPKScan > 0 && d.PlanIndexScan == 0 && d.PlanUnique == 0:
		return PKScan
	}
	return fmt.Sprintf("mixed %+v", d)
}

// Check runs every case Runs times, each in its own write transaction
// that is rolled back, and fails t when a run's plan, last type and index,
// or number of reads is not what the case expects.
func Check(t *testing.T, db *bstore.DB, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			for i := range Runs {
				tx, err := db.Begin(context.Background(), true)
				if err != nil {
					t.Fatalf("begin: %v", err)
				}
				before := tx.Stats()
				err = c.Run(tx)
				d := tx.Stats().Sub(before)
				if rerr := tx.Rollback(); rerr != nil {
					t.Fatalf("rollback: %v", rerr)
				}
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				if msg := verdict(c, d); msg != "" {
					t.Fatalf("run %d: %s", i, msg)
				}
			}
		})
	}
}

// verdict says what is wrong with one run's statistics d, or "".
func verdict(c Case, d bstore.Stats) string {
	plan, typ, index := Plan(d), d.LastType, d.LastIndex
	if c.Plan == Any && d.PlanTableScan == 0 {
		plan, typ, index = Any, c.Type, c.Index
	}
	reads := d.Records.Get + d.Records.Cursor + d.Index.Cursor
	if plan != c.Plan || typ != c.Type || index != c.Index || reads > c.MaxReads {
		return fmt.Sprintf("plan %s on %s index %q, %d reads (records get %d, cursor %d; index cursor %d), want plan %s on %s index %q, at most %d reads",
			plan, typ, index, reads, d.Records.Get, d.Records.Cursor, d.Index.Cursor, c.Plan, c.Type, c.Index, c.MaxReads)
	}
	return ""
}
