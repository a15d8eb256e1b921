package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestIsSystemKeyFollowsTheInstalledKey: IsSystemKey knows the System key
// once installed, from the database when the store opens, and only the new
// one after a replacement.
func TestIsSystemKeyFollowsTheInstalledKey(t *testing.T) {
	ctx := context.Background()
	path, cfg := filepath.Join(t.TempDir(), "apikeyd.db"), Config{Sealer: sealer(t)}
	open := func() *Store {
		st, err := openSQLite(t, path, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st := open()
	const old, next = "the-first-system-key-0123", "the-second-system-key-456"
	if st.IsSystemKey(old) {
		t.Fatal("a System key before any is installed")
	}
	if _, err := st.InstallSystemKey(ctx, old); err != nil {
		t.Fatal(err)
	}
	user, err := st.CreateUserKey(ctx, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsSystemKey(old) || st.IsSystemKey(user) || st.IsSystemKey(old+"x") || st.IsSystemKey("") {
		t.Fatal("after install: only the installed key is the System key")
	}
	st.Close()
	st = open()
	if !st.IsSystemKey(old) {
		t.Fatal("after reopening: the installed key is not known")
	}
	if err := st.ReplaceSystemKey(ctx, next); err != nil {
		t.Fatal(err)
	}
	if st.IsSystemKey(old) || !st.IsSystemKey(next) {
		t.Fatal("after a replacement: only the new key is the System key")
	}
}
