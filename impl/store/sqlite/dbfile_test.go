package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// TestACallOnANewConnectionAfterTheFileWentSaysSo: the connections open
// when the database file is deleted keep reading it, but one the pool
// opens afterwards finds an empty database at the path. Its failure must
// say that the file went (ErrDatabaseFileGone, which both API families
// answer in words of their own), and it must not leave an empty
// database where the operator removed one.
func TestACallOnANewConnectionAfterTheFileWentSaysSo(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "apikeyd.db")
	e := openReal(t, path)
	if _, err := e.Queries().CountSystemKeys(ctx); err != nil {
		t.Fatal(err)
	}
	// Every connection open now is held, so the next query needs a new one.
	held := make([]*sql.Conn, e.db.Stats().OpenConnections)
	for i := range held {
		c, err := e.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held[i] = c
		defer c.Close()
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	for call, f := range map[string]func() error{
		"a read": func() error { _, err := e.Queries().CountSystemKeys(ctx); return err },
		"a transaction": func() error {
			return e.InTx(ctx, func(q driver.Queries) error { _, err := q.CountSystemKeys(ctx); return err })
		},
		"a group commit": func() error {
			return e.Write(ctx, func(ctx context.Context, q driver.Queries) error { _, err := q.CountSystemKeys(ctx); return err })
		},
	} {
		if err := f(); !errors.Is(err, driver.ErrDatabaseFileGone) || !errors.Is(err, driver.ErrDatabase) {
			t.Errorf("%s on a new connection: %v, want ErrDatabaseFileGone in ErrDatabase", call, err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the path after the read: %v, want no file: a connection made an empty database there", err)
	}
}
