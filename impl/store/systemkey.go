package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/apikeyd/apikeyd/impl/keys"
)

// systemKeyHashes is the hash of the System key, read when the store
// opens and kept by the store's own changes, so that a request can tell
// the System key from a Discord token without the database (which may be
// down). No other process replaces the System key while a server holds
// the database.
type systemKeyHashes struct {
	mu     sync.Mutex
	hashes [][]byte
}

// IsSystemKey reports whether token is the System key, comparing hashes in
// constant time.
func (s *Store) IsSystemKey(token string) bool {
	hash := keys.Hash(token)
	s.systemKey.mu.Lock()
	defer s.systemKey.mu.Unlock()
	found := false
	for _, h := range s.systemKey.hashes {
		found = keys.Equal(h, hash) || found
	}
	return found
}

// IsMasterKey reports whether token is a master key of the store's ring,
// in its text form: a secret that must never leave apikeyd either.
func (s *Store) IsMasterKey(token string) bool { return s.sealer.IsMasterKey(token) }

// loadSystemKey reads the System key's hash, for Open.
func (s *Store) loadSystemKey(ctx context.Context) error {
	rows, err := s.q.ListUserKeysOfUser(ctx, SystemUser)
	if err != nil {
		return fmt.Errorf("read the system key's hash: %w", err)
	}
	var hashes [][]byte
	for _, r := range rows {
		hashes = append(hashes, r.KeyHash)
	}
	s.systemKey.mu.Lock()
	defer s.systemKey.mu.Unlock()
	s.systemKey.hashes = hashes
	return nil
}

// systemKeyChanged records that token became the System key. replaced
// says whether the keys before it are gone; after a failed replacement it
// is false, as the commit may or may not have happened, and both keys are
// then known as the System key rather than one of them sent to Discord.
func (s *Store) systemKeyChanged(token string, replaced bool) {
	s.systemKey.mu.Lock()
	defer s.systemKey.mu.Unlock()
	if replaced {
		s.systemKey.hashes = nil
	}
	s.systemKey.hashes = append(s.systemKey.hashes, keys.Hash(token))
}
