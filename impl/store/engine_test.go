package store

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store/sqlite"
)

// The store's own tests run on SQLite, which needs nothing but Go; the
// rules they prove are the engine's neutral ones, and storetest proves
// them again on every engine.

func sealer(t testing.TB) *keys.Sealer {
	return ringOf(t, keys.NewMasterKey())
}

// ringOf is the ring of masters, the current one first.
func ringOf(t testing.TB, masters ...[]byte) *keys.Sealer {
	s, err := keys.NewRing(masters)
	if err != nil {
		t.Fatal(err)
	}
	return s
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

// openSQLite opens a store on the SQLite database at path.
func openSQLite(t testing.TB, path string, cfg Config) (*Store, error) {
	t.Helper()
	engine, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Schema: realSchema(t)})
	if err != nil {
		return nil, err
	}
	return Open(context.Background(), engine, cfg)
}

// openReal opens a store with schema.sql.
func openReal(t testing.TB, path string) *Store {
	t.Helper()
	return openRealWith(t, path, sealer(t))
}

// openRealWith is openReal sealing with ring.
func openRealWith(t testing.TB, path string, ring *keys.Sealer) *Store {
	t.Helper()
	st, err := openSQLite(t, path, Config{Sealer: ring})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sqliteDB is the database beneath st, for tests that look at it.
func sqliteDB(st *Store) *sql.DB { return st.engine.(*sqlite.Engine).DB() }
