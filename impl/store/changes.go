package store

import (
	"context"
	"log/slog"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// What a process caches, and what makes each stale:
//   - guildKeys, the guild keys that authenticated: a key deleted
//     (driver.ChangedGuildKey);
//   - userKeys, the user keys that authenticated, the System key among
//     them: a user's keys removed (ChangedUserKeys), the System key
//     replaced (ChangedSystemKey);
//   - settings, a guild's general settings with the logging module's
//     switch: settings changed (ChangedGuildSettings), the module turned
//     on or off (the same), a seed applied (the same);
//   - grants, the administrator grants found: a grant removed, by the
//     API or by guild-admin (ChangedGuildAdmin); absence is never cached,
//     so a grant added makes nothing stale;
//   - keyLists, each guild's keys as stored (sealed) for listing them: a
//     key created or seeded, a use recorded, a creator erased
//     (ChangedGuildKeyList), a key deleted (ChangedGuildKey);
//   - systemKey, the System key's hash: the System key replaced.
//
// Nothing else read from the database is cached: sessions, logging
// settings, the audit log and the master key's check are read on every
// request that needs them, so that ending a session holds on every
// process at once. Sealed copies are opened with the ring of the
// process, which never changes while it runs, so rotating the master key
// makes nothing stale. What is not the database's stays each process's
// own: the failed-authentication limiter, Discord's answers and the key
// uses waiting to be written.

// Listen drops what other processes' changes make stale, as the engine
// hears of them, until ctx ends. Each process's own changes are dropped
// by the call that makes them, before it returns.
func (s *Store) Listen(ctx context.Context, log *slog.Logger) {
	s.changes.Listen(ctx, driver.Listener{
		Apply:   func(c driver.Change) { s.apply(ctx, log, c) },
		DropAll: func() { s.dropAll(ctx, log) },
		Failed: func(err error) {
			log.WarnContext(ctx, "caches read through to the database until the change feed is back", "err", err)
		},
	})
}

// apply drops what c made stale.
func (s *Store) apply(ctx context.Context, log *slog.Logger, c driver.Change) {
	switch c.Kind {
	case driver.ChangedGuildKey:
		s.guildKeys.forget(c.Key)
		s.keyLists.forgetWhere(func(l []driver.GuildKey) bool { return listHolds(l, c.Key) })
	case driver.ChangedGuildKeyList:
		s.keyLists.forget(c.Key)
	case driver.ChangedGuildAdmin:
		s.grants.forget(c.Key)
	case driver.ChangedUserKeys:
		user := string(c.Key)
		s.userKeys.forgetWhere(func(owner string) bool { return owner == user })
	case driver.ChangedSystemKey:
		s.userKeys.forgetWhere(func(owner string) bool { return owner == SystemUser })
		s.reloadSystemKey(ctx, log)
	case driver.ChangedGuildSettings:
		s.settings.forget(c.Key)
	default:
		// A change this version does not know, from a newer one beside
		// it: whatever it made stale goes with everything else.
		s.dropAll(ctx, log)
	}
}

// dropAll drops every cache, for changes that may have been missed.
func (s *Store) dropAll(ctx context.Context, log *slog.Logger) {
	s.guildKeys.forgetAll()
	s.userKeys.forgetAll()
	s.settings.forgetAll()
	s.grants.forgetAll()
	s.keyLists.forgetAll()
	s.reloadSystemKey(ctx, log)
}

// reloadSystemKey reads the System key's hash again. If the database
// cannot say, the hash known stays: a key that is no longer the System
// key is still refused, since its lookup finds no key.
func (s *Store) reloadSystemKey(ctx context.Context, log *slog.Logger) {
	if err := s.loadSystemKey(ctx); err != nil && ctx.Err() == nil {
		log.WarnContext(ctx, "reload the System key's hash", "err", err)
	}
}
