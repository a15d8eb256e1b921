package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

const testSchema = `-- migration 1: one table
CREATE TABLE a (id INTEGER PRIMARY KEY);
-- migration 2: another
CREATE TABLE b (id INTEGER PRIMARY KEY);
`

func TestMigrationsApplyOnceInOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	if err := createPrivate(path); err != nil {
		t.Fatal(err)
	}
	sqldb, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	first := testSchema[:strings.Index(testSchema, "-- migration 2")]
	if err := migrate(ctx, sqldb, dbFile{}, first); err != nil {
		t.Fatal(err)
	}
	// A later apikeyd adds migration 2 to a database at version 1.
	if err := migrate(ctx, sqldb, dbFile{}, testSchema); err != nil {
		t.Fatal(err)
	}
	var version int
	sqldb.QueryRow("PRAGMA user_version").Scan(&version)
	if version != 2 {
		t.Fatalf("user_version: got %d, want 2", version)
	}
	if _, err := sqldb.Exec("INSERT INTO b DEFAULT VALUES"); err != nil {
		t.Fatalf("migration 2 not applied: %v", err)
	}
	// Applying again changes nothing.
	if err := migrate(ctx, sqldb, dbFile{}, testSchema); err != nil {
		t.Fatal(err)
	}
	// An older apikeyd refuses a newer database instead of breaking it.
	if err := migrate(ctx, sqldb, dbFile{}, first); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("older schema on newer database: got %v", err)
	}
}

func TestPragmasAreSet(t *testing.T) {
	e := openReal(t, filepath.Join(t.TempDir(), "p.db"))
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000"} {
		var got string
		if err := e.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("%s: got %q (%v), want %q", pragma, got, err, want)
		}
	}
}

// realSchema is schema.sql.
func realSchema(t testing.TB) string {
	t.Helper()
	schema, err := os.ReadFile("../../../schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(schema)
}

// openReal opens an engine with schema.sql.
func openReal(t testing.TB, path string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Config{Path: path, Schema: realSchema(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// What a database call returns that is no failure of the database is
// not marked: no row is an answer, and a context's error is the caller's.
func TestDBErrorLeavesAnswersAndCallers(t *testing.T) {
	for _, err := range []error{nil, sql.ErrNoRows, context.Canceled, context.DeadlineExceeded} {
		if got := dbError(err); errors.Is(got, driver.ErrDatabase) || got != err {
			t.Errorf("dbError(%v) = %v", err, got)
		}
	}
}
