package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// Resealing beside requests that open and seal keys, on a store given the
// ring new,old: every request succeeds, and every key opens under the new
// master key alone.
func TestResealBesideConcurrentRequests(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/r.db"
	oldKey, newKey := keys.NewMasterKey(), keys.NewMasterKey()
	before := openRealWith(t, path, ringOf(t, oldKey))
	guild := snowflake.ID(1)
	want := map[string]bool{}
	for range 5 {
		k, err := before.CreateGuildKey(ctx, guild, Actor{UserID: 2}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		want[k.Token] = true
	}
	st := openRealWith(t, path, ringOf(t, newKey, oldKey))
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
		if _, err := st.Reseal(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	after := openRealWith(t, path, ringOf(t, newKey))
	got, err := after.ListGuildKeys(ctx, guild)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range got {
		delete(want, k.Token)
	}
	if len(want) != 0 {
		t.Fatalf("keys lost: %v", want)
	}
	if _, err := after.ListAllUserKeys(ctx); err != nil {
		t.Fatal(err)
	}
}

// A store whose keys another process resealed under a master key it does
// not hold: it is not ready, says so when it cannot open keys, and still
// deletes one, answering with the key asked for.
func TestAStoreResealedByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/r.db"
	oldKey := keys.NewMasterKey()
	st := openRealWith(t, path, ringOf(t, oldKey))
	guild := snowflake.ID(1)
	k, err := st.CreateGuildKey(ctx, guild, Actor{UserID: 2}, 25)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUserKey(ctx, "alice", ""); err != nil {
		t.Fatal(err)
	}
	other, err := openSQLite(t, path, Config{Sealer: ringOf(t, keys.NewMasterKey(), oldKey)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Reseal(ctx); err != nil {
		t.Fatal(err)
	}

	for name, call := range map[string]func() error{
		"Ready":           func() error { return st.Ready(ctx) },
		"ListGuildKeys":   func() error { return second(st.ListGuildKeys(ctx, guild)) },
		"ListUserKeys":    func() error { return second(st.ListUserKeys(ctx, "alice")) },
		"ListAllUserKeys": func() error { return second(st.ListAllUserKeys(ctx)) },
		"CreateGuildKey":  func() error { return second(st.CreateGuildKey(ctx, guild, Actor{UserID: 2}, 25)) },
	} {
		if err := call(); !errors.Is(err, ErrMasterKeyRotated) {
			t.Errorf("%s: %v, want ErrMasterKeyRotated", name, err)
		}
	}
	deleted, err := st.DeleteGuildKey(ctx, guild, Actor{UserID: 2}, k.Token)
	if err != nil || deleted.Token != k.Token || deleted.ID != k.ID {
		t.Fatalf("delete: %+v, %v", deleted, err)
	}
	if left, err := other.ListGuildKeys(ctx, guild); err != nil || len(left) != 0 {
		t.Fatalf("after the delete: %+v, %v", left, err)
	}
}
