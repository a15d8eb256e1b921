package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/sqlite"
)

const copyUsage = `Usage:
  apikeyd copy-to-postgres --to URL [--data-dir D] [--db F]

Copies the SQLite database of the data directory (or the file --db names)
into the empty PostgreSQL database at URL (env APIKEYD_COPY_TO), in one
transaction: every key, administrator, setting, audit entry and dashboard
session, with its id, so that audit cursors page on as before and new rows
get fresh ids; the sealed copies of keys as they are, under the same master
key. A target that holds anything (but apikeyd's migration log) is refused,
and nothing is written.

APIKEYD_MASTER_KEY must be the ring that the servers on PostgreSQL will
use; for a data directory with master.key:
  APIKEYD_MASTER_KEY=$(paste -sd, D/master.key)
A ring that does not open every sealed value is refused. Stop the server
on the SQLite database first (the command takes its lock); none may serve
the PostgreSQL one yet.
`

// copyToPostgres runs `apikeyd copy-to-postgres`.
func copyToPostgres(ctx context.Context, env Env, args []string) error {
	var cfg Config
	var target string
	flags, err := dataCommandFlags("apikeyd copy-to-postgres", copyUsage, env, &cfg)
	if err != nil {
		return err
	}
	if err := bindFlags(flags, env.Getenv, stringFlag(&target, "to", "APIKEYD_COPY_TO", "", "postgres:// URL of the empty database to copy into")); err != nil {
		return err
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	to := cfg
	to.DB = target
	switch {
	case !postgres.IsURL(target):
		return errors.New("--to (APIKEYD_COPY_TO) must be a postgres:// or postgresql:// URL")
	case cfg.onPostgres() || cfg.DBPath() == ":memory:":
		return errors.New("--db (APIKEYD_DB) names the SQLite database to copy from, a file; the PostgreSQL one goes in --to")
	case cfg.MasterKey == "":
		return errors.New("APIKEYD_MASTER_KEY is not set: give the ring the servers on PostgreSQL will use (with master.key: APIKEYD_MASTER_KEY=$(paste -sd, " + cfg.DataDir + "/master.key))")
	}
	if _, err := os.Stat(cfg.DBPath()); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no SQLite database at %s", cfg.DBPath())
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	ring, err := loadMasterKey(cfg, log)
	if err != nil {
		return err
	}
	copied, err := copyDatabase(ctx, cfg, to, env.Schemas, ring)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "copied %s (%d keys) into %s\n", cfg.DBPath(), copied, to.dbForLog())
	fmt.Fprintln(env.Stdout, "serve it with APIKEYD_DB set to that URL and the same APIKEYD_MASTER_KEY and APIKEYD_SYSTEM_KEY")
	return nil
}

// copyDatabase copies the SQLite database of from into the PostgreSQL
// database of to, holding both servers' locks, once ring has opened every
// sealed value of from. It returns how many keys it copied.
func copyDatabase(ctx context.Context, from, to Config, schemas Schemas, ring [][]byte) (int, error) {
	unlockFrom, err := lockServer(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("the SQLite database: %w", err)
	}
	defer unlockFrom()
	unlockTo, err := lockServer(ctx, to)
	if err != nil {
		return 0, fmt.Errorf("the PostgreSQL database: %w", err)
	}
	defer unlockTo()

	sealer, err := keys.NewRing(ring)
	if err != nil {
		return 0, fmt.Errorf("master key: %w", err)
	}
	source, err := sqlite.Open(ctx, sqlite.Config{Path: from.DBPath(), Schema: schemas.SQLite})
	if err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, source, store.Config{Sealer: sealer})
	if err != nil {
		return 0, fmt.Errorf("the SQLite database: %w", err)
	}
	defer st.Close() // and source with it
	n, err := st.OpenAll(ctx)
	if err != nil {
		return 0, fmt.Errorf("the SQLite database: %w", err)
	}
	tables, err := source.Export(ctx)
	if err != nil {
		return 0, err
	}
	target, err := postgres.Open(ctx, postgres.Config{URL: to.DB, Schema: schemas.PostgreSQL})
	if err != nil {
		return 0, err
	}
	defer target.Close()
	if err := target.Import(ctx, tables); err != nil {
		return 0, err
	}
	return n, nil
}
