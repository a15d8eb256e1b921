package driver

import "context"

// ChangeKind names what a change makes stale in a process's caches.
type ChangeKind string

// The changes that make a cache stale; Change.Key says which entries.
const (
	// ChangedGuildKey: a guild key was deleted. Key: its hash.
	ChangedGuildKey ChangeKind = "guild_key"
	// ChangedUserKeys: a user's keys were removed. Key: the user name.
	ChangedUserKeys ChangeKind = "user_keys"
	// ChangedSystemKey: the System key was replaced. Key: empty.
	ChangedSystemKey ChangeKind = "system_key"
	// ChangedGuildSettings: a guild's settings (the logging module's
	// switch among them) changed. Key: the guild id, 8 bytes big-endian.
	ChangedGuildSettings ChangeKind = "guild_settings"
	// ChangedGuildKeyList: what listing a guild's keys shows changed: a
	// key created or seeded, a use recorded, a creator erased. Key: the
	// guild id, 8 bytes big-endian. A key deleted is ChangedGuildKey,
	// which drops the lists that hold it.
	ChangedGuildKeyList ChangeKind = "guild_key_list"
	// ChangedGuildAdmin: a user no longer administers a guild. Key: the
	// guild id then the user id, 8 bytes big-endian each. A grant added
	// makes nothing stale: only grants are cached, never their absence.
	ChangedGuildAdmin ChangeKind = "guild_admin"
)

// Change is one write that makes what processes cache stale.
type Change struct {
	Kind ChangeKind
	Key  []byte
}

// Changes is how the processes sharing one database hear of each other's
// changes, so that each drops what another's change made stale.
type Changes interface {
	// Record records c in the transaction of q (as InTx or Write gave
	// it), so that it is committed, or rolled back, with the write it
	// describes, and every listening process hears of it once committed.
	Record(ctx context.Context, q Queries, c Change) error
	// Listen gives l each change any process records, until ctx ends.
	Listen(ctx context.Context, l Listener)
	// Fresh reports whether the caches may be trusted now: every change
	// committed more than a moment ago has been given to Listen's apply.
	// When it is false, reads go to the database.
	Fresh() bool
	// Committed is a stamp of the commits on the database, read without
	// a query, that moves whenever any process commits; ok is false when
	// it cannot be read now. A cache of what another process may change
	// without recording it (apikeyd guild-admin's grants, beside a SQLite
	// server) is dropped whenever it moves. An engine whose every change
	// is recorded, and heard by Listen, returns a stamp that never moves.
	Committed() (stamp uint64, ok bool)
}

// Listener is what Changes.Listen tells of the changes it hears.
type Listener struct {
	// Apply drops what c made stale.
	Apply func(c Change)
	// DropAll drops everything cached: changes may have been missed (a
	// new listening connection, a long silence).
	DropAll func()
	// Failed is told why listening stopped before it starts again.
	Failed func(err error)
}

// OneProcess is the Changes of an engine that one process alone serves
// (SQLite, under its file lock): that process drops what it changes
// itself, so there is nothing to record or to hear, and its caches are
// always fresh. What apikeyd guild-admin changes beside it, the engine's
// Committed tells (OneProcess's own never moves, for a database no other
// process opens, as ":memory:").
type OneProcess struct{}

var _ Changes = OneProcess{}

// Record records nothing.
func (OneProcess) Record(context.Context, Queries, Change) error { return nil }

// Listen waits for ctx to end.
func (OneProcess) Listen(ctx context.Context, _ Listener) { <-ctx.Done() }

// Fresh is always true.
func (OneProcess) Fresh() bool { return true }

// Committed never moves.
func (OneProcess) Committed() (uint64, bool) { return 0, true }
