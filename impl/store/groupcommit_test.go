package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/apikeyd/apikeyd/gen/db"
)

// Writes sent together are committed together, each caller getting its
// own result: one write failing takes no other down with it.
func TestGroupCommitAnswersEachWrite(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, t.TempDir()+"/g.db")
	refused := errors.New("refused")
	const n = 60
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.writes.do(ctx, func(ctx context.Context, q *db.Queries) error {
				if i%3 == 0 {
					return refused
				}
				insert, err := st.userKeyInsert(st.sealer, fmt.Sprint("user-", i), "", fmt.Sprintf("akdu_%036d", i))
				if err != nil {
					return err
				}
				return insert(ctx, q)
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%3 == 0; (err != nil) != want || (want && !errors.Is(err, refused)) {
			t.Errorf("write %d: got %v", i, err)
		}
	}
	keys, err := st.ListAllUserKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(keys), n-n/3; got != want {
		t.Fatalf("stored %d keys, want %d", got, want)
	}
}

func TestGroupCommitRefusesWritesAfterClose(t *testing.T) {
	st := openReal(t, t.TempDir()+"/c.db")
	st.writes.close()
	err := st.writes.do(context.Background(), func(context.Context, *db.Queries) error { return nil })
	if !errors.Is(err, errStoreClosed) {
		t.Fatalf("got %v", err)
	}
}

// A write of several statements that fails part-way leaves nothing
// behind, while the other writes of its batch commit.
func TestGroupCommitUndoesAFailedWriteWhole(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, t.TempDir()+"/s.db")
	insert := func(user string, n int) func(context.Context, *db.Queries) error {
		write, err := st.userKeyInsert(st.sealer, user, "", fmt.Sprintf("akdu_%036d", n))
		if err != nil {
			t.Fatal(err)
		}
		return write
	}
	halfDone := errors.New("second statement failed")
	writes := []func(context.Context, *db.Queries) error{
		insert("before", 1),
		func(ctx context.Context, q *db.Queries) error {
			if err := insert("half", 2)(ctx, q); err != nil {
				return err
			}
			return halfDone
		},
		// The same key twice: the second insert breaks the unique index.
		func(ctx context.Context, q *db.Queries) error {
			if err := insert("twice", 3)(ctx, q); err != nil {
				return err
			}
			return insert("twice", 3)(ctx, q)
		},
		insert("after", 4),
	}
	batch := make([]*groupWrite, len(writes))
	for i, w := range writes {
		batch[i] = &groupWrite{ctx: ctx, write: w, result: make(chan error, 1)}
	}
	st.writes.commit(batch)
	for i, w := range batch {
		err := <-w.result
		if want := i == 1 || i == 2; (err != nil) != want {
			t.Errorf("write %d: got %v", i, err)
		}
	}
	keys, err := st.ListAllUserKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, k := range keys {
		users = append(users, k.User)
	}
	if got, want := fmt.Sprint(users), "[before after]"; got != want {
		t.Fatalf("stored keys of %s, want %s", got, want)
	}
}
