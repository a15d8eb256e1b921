package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestAStoreWhoseFileIsGoneWritesNothing: once the path no longer leads to
// the database file the store opened, deleted or replaced by another
// file, every write is refused (ErrDatabaseFileGone, an ErrDatabase) and
// the store is not ready, while nothing it still reads has changed.
func TestAStoreWhoseFileIsGoneWritesNothing(t *testing.T) {
	for name, lose := range map[string]func(t *testing.T, path string){
		"deleted": func(t *testing.T, path string) {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		},
		"replaced": func(t *testing.T, path string) {
			if err := os.Rename(path, path+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "apikeyd.db")
			st := openReal(t, path)
			kept, err := st.CreateUserKey(ctx, "alice", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Ready(ctx); err != nil {
				t.Fatalf("ready before: %v", err)
			}
			lose(t, path)

			writes := map[string]func() error{
				"CreateUserKey":  func() error { return second(st.CreateUserKey(ctx, "bob", "")) },
				"DeleteUserKeys": func() error { return second(st.DeleteUserKeys(ctx, "alice")) },
				"AddGuildAdmin":  func() error { return second(st.AddGuildAdmin(ctx, 1, 2)) },
				"CreateGuildKey": func() error { return second(st.CreateGuildKey(ctx, 1, Actor{UserID: 2}, 25)) },
				"Ready":          func() error { return st.Ready(ctx) },
			}
			for call, f := range writes {
				if err := f(); !errors.Is(err, ErrDatabaseFileGone) || !errors.Is(err, ErrDatabase) {
					t.Errorf("%s: %v, want ErrDatabaseFileGone in ErrDatabase", call, err)
				}
			}
			if owner, err := st.UserKeyOwner(ctx, kept); err != nil || owner != "alice" {
				t.Errorf("alice's key after refused writes: %q, %v", owner, err)
			}
		})
	}
}

// TestAnInMemoryStoreHasNoFileToLose: ":memory:" is no path, and the check
// never refuses it.
func TestAnInMemoryStoreHasNoFileToLose(t *testing.T) {
	st := openReal(t, ":memory:")
	if _, err := st.CreateUserKey(context.Background(), "alice", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}
