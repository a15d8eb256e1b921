package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// Resealing beside requests that open and seal keys: every request
// succeeds, and every key opens under the last master key.
func TestResealBesideConcurrentRequests(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, t.TempDir()+"/r.db")
	guild := snowflake.ID(1)
	want := map[string]bool{}
	for range 5 {
		k, err := st.CreateGuildKey(ctx, guild, Actor{UserID: 2}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		want[k.Token] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := st.ListGuildKeys(ctx, guild); err != nil {
					errs <- fmt.Errorf("list: %w", err)
					return
				}
				if _, err := st.CreateUserKey(ctx, fmt.Sprintf("user-%d-%d", i, n), ""); err != nil {
					errs <- fmt.Errorf("create: %w", err)
					return
				}
			}
		}()
	}
	for range 5 {
		if _, err := st.Reseal(ctx, sealer(t)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := st.ListGuildKeys(ctx, guild)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range got {
		delete(want, k.Token)
	}
	if len(want) != 0 {
		t.Fatalf("keys lost: %v", want)
	}
	if _, err := st.ListAllUserKeys(ctx); err != nil {
		t.Fatal(err)
	}
}
