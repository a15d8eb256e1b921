package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// insertUserKey is a write storing a user key of user whose hash is
// made of n.
func insertUserKey(user string, n int) func(context.Context, driver.Queries) error {
	return func(ctx context.Context, q driver.Queries) error {
		_, err := q.CreateUserKey(ctx, driver.CreateUserKeyParams{
			UserName: user, KeyHash: fmt.Appendf(nil, "hash-%d", n), KeySealed: []byte("sealed"), CreatedAt: 1,
		})
		return err
	}
}

func storedUsers(t *testing.T, e *Engine) []string {
	t.Helper()
	rows, err := e.Queries().ListUserKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, r := range rows {
		users = append(users, r.UserName)
	}
	return users
}

// Writes sent together are committed together, each caller getting its
// own result: one write failing takes no other down with it.
func TestGroupCommitAnswersEachWrite(t *testing.T) {
	ctx := context.Background()
	e := openReal(t, t.TempDir()+"/g.db")
	refused := errors.New("refused")
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.Write(ctx, func(ctx context.Context, q driver.Queries) error {
				if i%3 == 0 {
					return refused
				}
				return insertUserKey(fmt.Sprint("user-", i), i)(ctx, q)
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%3 == 0; (err != nil) != want || (want && !errors.Is(err, refused)) {
			t.Errorf("write %d: got %v", i, err)
		}
	}
	if got, want := len(storedUsers(t, e)), n-n/3; got != want {
		t.Fatalf("stored %d keys, want %d", got, want)
	}
}

func TestGroupCommitRefusesWritesAfterClose(t *testing.T) {
	e := openReal(t, t.TempDir()+"/c.db")
	e.writes.close()
	err := e.Write(context.Background(), func(context.Context, driver.Queries) error { return nil })
	if !errors.Is(err, errEngineClosed) {
		t.Fatalf("got %v", err)
	}
}

// A write of several statements that fails part-way leaves nothing
// behind, while the other writes of its batch commit.
func TestGroupCommitUndoesAFailedWriteWhole(t *testing.T) {
	ctx := context.Background()
	e := openReal(t, t.TempDir()+"/s.db")
	halfDone := errors.New("second statement failed")
	writes := []func(context.Context, driver.Queries) error{
		insertUserKey("before", 1),
		func(ctx context.Context, q driver.Queries) error {
			if err := insertUserKey("half", 2)(ctx, q); err != nil {
				return err
			}
			return halfDone
		},
		// The same key twice: the second insert breaks the unique index.
		func(ctx context.Context, q driver.Queries) error {
			if err := insertUserKey("twice", 3)(ctx, q); err != nil {
				return err
			}
			return insertUserKey("twice", 3)(ctx, q)
		},
		insertUserKey("after", 4),
	}
	batch := make([]*groupWrite, len(writes))
	for i, w := range writes {
		batch[i] = &groupWrite{ctx: ctx, write: w, result: make(chan error, 1)}
	}
	e.writes.commit(batch)
	for i, w := range batch {
		err := <-w.result
		if want := i == 1 || i == 2; (err != nil) != want {
			t.Errorf("write %d: got %v", i, err)
		}
	}
	if got, want := fmt.Sprint(storedUsers(t, e)), "[before after]"; got != want {
		t.Fatalf("stored keys of %s, want %s", got, want)
	}
}
