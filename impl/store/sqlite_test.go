package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/keys"
)

const testSchema = `-- migration 1: one table
CREATE TABLE a (id INTEGER PRIMARY KEY);
-- migration 2: another
CREATE TABLE b (id INTEGER PRIMARY KEY);
`

func sealer(t testing.TB) *keys.Sealer {
	master := make([]byte, 32)
	rand.Read(master)
	s, err := keys.NewSealer(master)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMigrationsApplyOnceInOrder(t *testing.T) {
	ctx := context.Background()
	sqldb, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db")))
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

func TestParseMigrationsRefusesGaps(t *testing.T) {
	for _, schema := range []string{
		"CREATE TABLE a (id INTEGER);",
		"-- migration 2: skips 1\nCREATE TABLE a (id INTEGER);",
		"-- migration 1: a\n-- migration 1: again\n",
	} {
		if _, err := parseMigrations(schema); err == nil {
			t.Errorf("accepted %q", schema)
		}
	}
}

func TestPragmasAreSet(t *testing.T) {
	st := openReal(t, filepath.Join(t.TempDir(), "p.db"))
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000"} {
		var got string
		if err := st.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("%s: got %q (%v), want %q", pragma, got, err, want)
		}
	}
}

// realSchema is schema.sql.
func realSchema(t testing.TB) string {
	t.Helper()
	schema, err := os.ReadFile("../../schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(schema)
}

// openReal opens a store with schema.sql.
func openReal(t testing.TB, path string) *Store {
	t.Helper()
	st, err := Open(context.Background(), Config{Path: path, Schema: realSchema(t), Sealer: sealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
