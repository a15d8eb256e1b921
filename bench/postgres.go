package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

// postgresRows measures on PostgreSQL what the SQLite rows measure: a
// key-authenticated read against the bare server, a page of the large
// guild's audit log against the small one's, and key creation. apikeyd
// runs pinned as on SQLite, on a database of its own on the server at
// admin; the PostgreSQL server itself is not pinned.
func (e *env) postgresRows(ctx context.Context, admin string) ([]comparison, []insertRow, error) {
	db, _, drop, err := createDatabase(ctx, admin)
	if err != nil {
		return nil, nil, err
	}
	defer drop()
	data := filepath.Join(e.dir, "postgres")
	master := harness.NewMasterKey()
	onDB := "APIKEYD_DB=" + db
	for _, g := range []string{smallGuild, largeGuild} {
		if err := harness.GuildAdmin(ctx, e.bin, data, master, g, e.discord.AdminID, onDB); err != nil {
			return nil, nil, err
		}
	}
	fmt.Fprintf(os.Stderr, "seeding %d + %d audit entries on PostgreSQL\n", smallCount, e.settings.entries)
	if err := copyEntries(ctx, db, map[string]int{smallGuild: smallCount, largeGuild: e.settings.entries}); err != nil {
		return nil, nil, err
	}
	proc, err := harness.Start(ctx, harness.Options{
		Binary: e.bin, DataDir: data, DiscordURL: e.discord.URL(), MasterKey: master,
		Args: []string{"--max-keys-per-guild", "1000000", "--auth-failure-rate", "0"},
		CPUs: e.settings.serverCPU, Env: []string{onDB},
	})
	if err != nil {
		return nil, nil, err
	}
	defer proc.Stop()
	pg := *e
	pg.proc = proc
	// Its own files (wrk's scripts, the raw insert loop's databases).
	pg.dir = filepath.Join(e.dir, "postgres-run")
	if err := os.Mkdir(pg.dir, 0o700); err != nil {
		return nil, nil, err
	}
	if pg.guildKey, err = pg.createGuildKey(ctx, smallGuild); err != nil {
		return nil, nil, err
	}
	read := pg.scenarios()[0]
	read.name += ", PostgreSQL"
	fmt.Fprintln(os.Stderr, read.name)
	c, err := pg.compareWithBare(ctx, read)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", read.name, err)
	}
	fmt.Fprintln(os.Stderr, "audit entries on PostgreSQL, large guild vs small")
	entries, err := pg.compareEntries(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("entries: %w", err)
	}
	entries.name += ", PostgreSQL"
	fmt.Fprintln(os.Stderr, "key creation on PostgreSQL vs raw SQLite inserts")
	inserts, err := pg.measureInserts(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i := range inserts {
		inserts[i].engine = "PostgreSQL"
	}
	return []comparison{c, entries}, inserts, nil
}

// copyEntries writes audit entries straight into the PostgreSQL database
// at db, as seedEntries does into SQLite's file.
func copyEntries(ctx context.Context, db string, counts map[string]int) error {
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	now := time.Now().UnixMilli()
	for guild, n := range counts {
		var id int64
		fmt.Sscan(guild, &id)
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"audit_entries"}, []string{"guild_id", "created_at", "actor_user", "action", "changes"},
			pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				return []any{id, now - int64(n-i), int64(310987654321098765), "settings.updated", `{"language":"nl"}`}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy audit entries: %w", err)
		}
	}
	return nil
}
