package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// Seed is data with fixed values that a start applies (apikeyd serve
// --seed), so that tests elsewhere can hard-code keys. Applying it adds or
// updates what it names and deletes nothing. Each item's Where names it in
// the file it came from, for errors; the caller has checked every value
// (keys by keys.Parse, settings by the document's rules).
type Seed struct {
	Guilds   []SeedGuild
	UserKeys []SeedUserKey
}

// SeedGuild is a guild with some of its administrators, settings and keys.
type SeedGuild struct {
	ID       snowflake.ID
	Admins   []snowflake.ID
	Settings SettingsChange
	Keys     []SeedKey
	Where    string
}

// SeedKey is a guild key's value.
type SeedKey struct {
	Token string
	Where string
}

// SeedUserKey is an /apiKeys key of a user, with its note.
type SeedUserKey struct {
	Token, User, Note string
	Where             string
}

// SeedResult counts what applying a seed changed; all zero when the
// database held it all already.
type SeedResult struct {
	AdminsAdded, SettingsChanged, GuildKeysAdded, UserKeysAdded, NotesChanged int
}

// Changed reports whether applying the seed wrote anything.
func (r SeedResult) Changed() bool { return r != SeedResult{} }

// ErrSeedConflict: the database holds a key of the seed elsewhere (a guild
// key in another guild, a user key of another user). Moving it would
// change what a key already given out unlocks, so the seed is refused.
var ErrSeedConflict = errors.New("the database holds this key elsewhere")

// ApplySeed applies seed in one transaction: what it adds and updates is
// all there, or nothing is. A guild holds at most maxKeysPerGuild keys,
// seeded ones included. Keys go through the sealing and hashing of every
// stored key; nothing is written to the audit log, which records changes
// made through /v1.
//
// It must run once per start before the server answers. Its transaction
// is serialized with every other of every process on the database
// (driver.Engine.InTx: SQLite's write lock taken at BEGIN, PostgreSQL's
// advisory lock), so that servers starting together apply it one after
// the other.
func (s *Store) ApplySeed(ctx context.Context, seed Seed, maxKeysPerGuild int) (SeedResult, error) {
	var res SeedResult
	sealer := s.sealer
	for _, g := range seed.Guilds {
		defer s.settings.forget(guildCacheKey(g.ID))
		defer s.keyLists.forget(guildCacheKey(g.ID))
	}
	err := s.engine.InTx(ctx, func(q driver.Queries) error {
		res = SeedResult{}
		if err := sealedUnderRing(ctx, q, sealer); err != nil {
			return err
		}
		for _, g := range seed.Guilds {
			if err := s.seedGuild(ctx, q, sealer, g, maxKeysPerGuild, &res); err != nil {
				return err
			}
			if err := s.recordSettingsChanged(ctx, q, g.ID); err != nil {
				return err
			}
			if err := s.recordKeyListChanged(ctx, q, g.ID); err != nil {
				return err
			}
		}
		for _, k := range seed.UserKeys {
			if err := s.seedUserKey(ctx, q, sealer, k, &res); err != nil {
				return fmt.Errorf("%s: %w", k.Where, err)
			}
		}
		return nil
	})
	if err != nil {
		return SeedResult{}, fmt.Errorf("apply seed: %w", err)
	}
	return res, nil
}

func (s *Store) seedGuild(ctx context.Context, q driver.Queries, sealer *keys.Sealer, g SeedGuild, max int, res *SeedResult) error {
	if err := s.ensureGuild(ctx, q, g.ID); err != nil {
		return err
	}
	for _, user := range g.Admins {
		n, err := q.AddGuildAdmin(ctx, driver.AddGuildAdminParams{GuildID: int64(g.ID), UserID: int64(user), CreatedAt: s.now().UnixMilli()})
		if err != nil {
			return err
		}
		res.AdminsAdded += int(n)
	}
	_, changes, err := s.changeSettings(ctx, q, g.ID, g.Settings)
	if err != nil {
		return fmt.Errorf("%s: %w", g.Where, err)
	}
	if len(changes) > 0 {
		res.SettingsChanged++
	}
	for _, k := range g.Keys {
		added, err := s.seedGuildKey(ctx, q, sealer, g.ID, k.Token, max)
		if err != nil {
			return fmt.Errorf("%s: %w", k.Where, err)
		}
		if added {
			res.GuildKeysAdded++
		}
	}
	return nil
}

// seedGuildKey stores token as a key of guild unless it is one already.
func (s *Store) seedGuildKey(ctx context.Context, q driver.Queries, sealer *keys.Sealer, guild snowflake.ID, token string, max int) (bool, error) {
	hash := keys.Hash(token)
	switch row, err := q.GetGuildKeyByHash(ctx, hash); {
	case err == nil && snowflake.ID(row.GuildID) == guild:
		return false, nil
	case err == nil:
		return false, fmt.Errorf("%w: it is a key of guild %s", ErrSeedConflict, snowflake.ID(row.GuildID))
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	sealed, err := sealer.Seal(token)
	if err != nil {
		return false, err
	}
	_, err = insertGuildKey(ctx, q, driver.CreateGuildKeyParams{
		GuildID: int64(guild), KeyHash: hash, KeySealed: sealed, CreatedAt: s.now().UnixMilli(),
	}, max)
	return err == nil, err
}

// seedUserKey stores k unless its token is a key of that user already,
// whose note it then updates.
func (s *Store) seedUserKey(ctx context.Context, q driver.Queries, sealer *keys.Sealer, k SeedUserKey, res *SeedResult) error {
	switch row, err := q.GetUserKeyByHash(ctx, keys.Hash(k.Token)); {
	case err == nil && row.UserName == k.User:
		n, err := q.UpdateUserKeyNote(ctx, driver.UpdateUserKeyNoteParams{Note: k.Note, ID: row.ID})
		res.NotesChanged += int(n)
		return err
	case err == nil:
		return fmt.Errorf("%w: it is a key of another user", ErrSeedConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	insert, err := s.userKeyInsert(sealer, k.User, k.Note, k.Token)
	if err != nil {
		return err
	}
	if err := insert(ctx, q); err != nil {
		return err
	}
	res.UserKeysAdded++
	return nil
}
