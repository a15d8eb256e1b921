//go:build unix

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestTheWALIndexStampMovesWithEveryCommit: the stamp is known and holds
// still while nothing commits, reads included, and moves with each commit
// of another engine on the file (another process, as apikeyd
// guild-admin) as with the engine's own.
func TestTheWALIndexStampMovesWithEveryCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stamp.db")
	schema, err := os.ReadFile("../../../schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	open := func() *Engine {
		e, err := Open(ctx, Config{Path: path, Schema: string(schema)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	server, other := open(), open()
	stamp := func() uint64 {
		t.Helper()
		s, ok := server.Changes().Committed()
		if !ok {
			t.Fatal("the stamp is not known")
		}
		return s
	}
	before := stamp()
	for range 3 {
		var n int
		if err := server.DB().QueryRowContext(ctx, "SELECT count(*) FROM guilds").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if s := stamp(); s != before {
			t.Fatalf("a read moved the stamp: %x -> %x", before, s)
		}
	}
	// The WAL starts over after a checkpoint: the commits that follow
	// write its first frames again, and still move the stamp.
	for i, e := range []*Engine{other, server, other, other, server} {
		if i == 3 {
			if _, err := other.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				t.Fatal(err)
			}
			before = stamp()
		}
		if _, err := e.DB().ExecContext(ctx, "INSERT INTO guilds (id, created_at) VALUES (?, 0)", i+1); err != nil {
			t.Fatal(err)
		}
		after := stamp()
		if after == before {
			t.Fatalf("commit %d did not move the stamp", i+1)
		}
		before = after
	}
}
