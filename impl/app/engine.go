package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/apikeyd/apikeyd/impl/store/driver"
	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/sqlite"
)

// Schemas are the migration logs of the engines: schema.sql and
// schema.postgres.sql.
type Schemas struct {
	SQLite     string
	PostgreSQL string
}

// onPostgres reports whether cfg's database is PostgreSQL's rather than a
// SQLite file.
func (c Config) onPostgres() bool { return postgres.IsURL(c.DB) }

// dbForLog is the database of cfg as a log may show it: a URL's password
// masked.
func (c Config) dbForLog() string {
	if !c.onPostgres() {
		return c.DBPath()
	}
	u, err := url.Parse(c.DB)
	if err != nil {
		return "postgres (an unparsable URL)"
	}
	return u.Redacted()
}

// OpenEngine opens the database of cfg with the engine its --db names;
// store.Open builds the store on it.
func OpenEngine(ctx context.Context, cfg Config, schemas Schemas) (driver.Engine, error) {
	if cfg.onPostgres() {
		return postgres.Open(ctx, postgres.Config{URL: cfg.DB, Schema: schemas.PostgreSQL})
	}
	return sqlite.Open(ctx, sqlite.Config{Path: cfg.DBPath(), Schema: schemas.SQLite})
}

// lockServer holds cfg's database for a server until release: alone on
// SQLite (a flock on its file, lockDatabase), whose server is the only
// one to drop what its changes make stale; beside other servers on
// PostgreSQL, where they tell each other of their changes (the change
// log), but not beside a command that must run alone (lockAlone).
func lockServer(ctx context.Context, cfg Config) (release func() error, err error) {
	if !cfg.onPostgres() {
		return lockDatabase(cfg.DBPath())
	}
	return lockPostgres(ctx, cfg, postgres.LockShared)
}

// lockAlone makes this process the only one holding cfg's database until
// release, for rotate-master-key and rotate-system-key: no server runs
// beside them.
func lockAlone(ctx context.Context, cfg Config) (release func() error, err error) {
	if !cfg.onPostgres() {
		return lockDatabase(cfg.DBPath())
	}
	return lockPostgres(ctx, cfg, postgres.LockExclusive)
}

func lockPostgres(ctx context.Context, cfg Config, mode postgres.LockMode) (release func() error, err error) {
	release, err = postgres.LockServer(ctx, cfg.DB, mode)
	if errors.Is(err, postgres.ErrServerLocked) {
		return nil, fmt.Errorf("%w (its PostgreSQL advisory lock is held)", errDatabaseInUse)
	}
	return release, err
}

// errKeysNotFromEnvironment: on PostgreSQL the keys come from the
// environment, never from files of the data directory.
var errKeysNotFromEnvironment = errors.New("on PostgreSQL the master key comes from APIKEYD_MASTER_KEY and the System key from APIKEYD_SYSTEM_KEY " +
	"(every server on the database must share them, and a server's data directory is often thrown away)")

// requireKeysFromEnvironment refuses to use a PostgreSQL database without
// the master key, and the System key when systemKey says it is needed, in
// the environment.
func requireKeysFromEnvironment(cfg Config, systemKey bool) error {
	if !cfg.onPostgres() {
		return nil
	}
	if cfg.MasterKey == "" {
		return fmt.Errorf("%w: APIKEYD_MASTER_KEY is not set", errKeysNotFromEnvironment)
	}
	if systemKey && cfg.SystemKey == "" {
		return fmt.Errorf("%w: APIKEYD_SYSTEM_KEY is not set", errKeysNotFromEnvironment)
	}
	return nil
}
