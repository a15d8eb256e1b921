package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// TestEveryConnectionCommitsSynchronously: synchronous_commit is on for
// each of the engine's connections even where the database's default is
// off, so that no acknowledged write waits in memory.
func TestEveryConnectionCommitsSynchronously(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()+" SET synchronous_commit = off"); err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile("../../../schema.postgres.sql")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(ctx, Config{URL: url, Schema: string(schema)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// Hold several connections at once, so that the pool opens more than
	// the one Open used.
	var held []*pgxpool.Conn
	for range 3 {
		c, err := e.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		var setting string
		if err := c.QueryRow(ctx, "SHOW synchronous_commit").Scan(&setting); err != nil || setting != "on" {
			t.Fatalf("synchronous_commit = %q (%v), want on", setting, err)
		}
	}
	for _, c := range held {
		c.Release()
	}
}
