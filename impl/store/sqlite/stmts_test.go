package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

func preparedCount(s *stmts) int {
	n := 0
	s.prepared.Range(func(_, _ any) bool { n++; return true })
	return n
}

// Nothing is prepared at open; a statement is prepared at its first run and
// kept for the next.
func TestAStatementIsPreparedAtItsFirstRun(t *testing.T) {
	ctx := context.Background()
	e := openReal(t, filepath.Join(t.TempDir(), "s.db"))
	if n := preparedCount(e.stmts); n != 0 {
		t.Fatalf("%d statements prepared at open, want none", n)
	}
	for range 3 {
		if _, err := e.Queries().ListUserKeys(ctx); err != nil {
			t.Fatal(err)
		}
		if n := preparedCount(e.stmts); n != 1 {
			t.Fatalf("%d statements prepared after running one, want 1", n)
		}
	}
}

// A statement first met in a transaction runs there unprepared, even on
// ":memory:", whose one connection the transaction holds, and is prepared
// once the transaction is over; its next run uses the prepared one.
func TestAStatementFirstRunInATransactionIsPreparedAfterIt(t *testing.T) {
	ctx := context.Background()
	e := openReal(t, ":memory:")
	if err := e.Write(ctx, insertUserKey("alice", 1)); err != nil {
		t.Fatal(err)
	}
	if n := preparedCount(e.stmts); n != 1 {
		t.Fatalf("%d statements prepared after a group commit of one, want 1", n)
	}
	err := e.InTx(ctx, func(q driver.Queries) error {
		if _, err := q.CreateUserKey(ctx, driver.CreateUserKeyParams{
			UserName: "bob", KeyHash: []byte("hash-bob"), KeySealed: []byte("sealed"), CreatedAt: 1,
		}); err != nil {
			return err
		}
		_, err := q.ListUserKeys(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := preparedCount(e.stmts); n != 2 {
		t.Fatalf("%d statements prepared after a transaction of a prepared one and a new one, want 2", n)
	}
	if got := storedUsers(t, e); len(got) != 2 {
		t.Errorf("stored users %v, want alice and bob", got)
	}
}
