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
