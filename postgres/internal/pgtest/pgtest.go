// Package pgtest gives each test of the postgres module a schema of its own
// on the PostgreSQL server that scripts/postgres starts, so that tests are
// independent and may run in parallel.
//
// The server is named by the connection string in the environment variable
// BOUNCEKIT_TEST_POSTGRES (scripts/postgres sets it). Without it a test
// skips, saying how to run it, unless CI or BOUNCEKIT_REQUIRE_POSTGRES is
// set: then a missing server fails the test, so that CI cannot pass
// without running these tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvConn is the environment variable with the connection string.
const EnvConn = "BOUNCEKIT_TEST_POSTGRES"

// EnvRequire, when set (not "0" or "false"), turns a skip for a missing
// server into a failure; so does CI.
const EnvRequire = "BOUNCEKIT_REQUIRE_POSTGRES"

// How tests are run against a server, for the skip message.
const howTo = "no PostgreSQL: run the tests with a throwaway server: cd postgres && ../scripts/postgres go test ./..."

func required() bool {
	for _, name := range []string{EnvRequire, "CI"} {
		switch os.Getenv(name) {
		case "", "0", "false":
		default:
			return true
		}
	}
	return false
}

// ConnString returns the server's connection string, or skips tb (fails it
// in CI) when there is none.
func ConnString(tb testing.TB) string {
	tb.Helper()
	s := os.Getenv(EnvConn)
	if s == "" {
		if required() {
			tb.Fatalf("%s is not set and PostgreSQL is required here (CI or %s): %s", EnvConn, EnvRequire, howTo)
		}
		tb.Skip(howTo)
	}
	return s
}

// Schema creates an empty schema with a random name and drops it, with
// everything in it, when tb ends. It returns the schema's name.
func Schema(tb testing.TB) string {
	tb.Helper()
	connString := ConnString(tb)
	schema, err := CreateSchema(context.Background(), connString)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := DropSchema(context.Background(), connString, schema); err != nil {
			tb.Error(err)
		}
	})
	return schema
}

// CreateSchema creates an empty schema with a random name and returns the
// name, for state shared by several tests or benchmarks; see Schema.
func CreateSchema(ctx context.Context, connString string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("pgtest: random schema name: %w", err)
	}
	schema := "test_" + hex.EncodeToString(b[:])
	return schema, exec(ctx, connString, "CREATE SCHEMA "+schema)
}

// DropSchema drops schema and everything in it.
func DropSchema(ctx context.Context, connString, schema string) error {
	return exec(ctx, connString, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
}

// exec runs one statement on a connection of its own.
func exec(ctx context.Context, connString, sql string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return fmt.Errorf("pgtest: connecting: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: %s: %w", sql, err)
	}
	return nil
}

// Config returns a pool configuration for a new schema of tb's (Schema):
// its connections have that schema as their search_path.
func Config(tb testing.TB) *pgxpool.Config {
	tb.Helper()
	config, err := SchemaConfig(ConnString(tb), Schema(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return config
}

// SchemaConfig returns a pool configuration whose connections have schema
// as their search_path.
func SchemaConfig(connString, schema string) (*pgxpool.Config, error) {
	config, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("pgtest: parsing %s: %w", EnvConn, err)
	}
	config.ConnConfig.RuntimeParams["search_path"] = schema
	return config, nil
}

// Pool returns a connection pool on a new schema of tb's, closed when tb
// ends (before the schema is dropped).
func Pool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return Open(tb, Config(tb))
}

// Open opens a pool with config, closed when tb ends.
func Open(tb testing.TB, config *pgxpool.Config) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), config)
	if err != nil {
		tb.Fatalf("pgtest: opening a pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}
