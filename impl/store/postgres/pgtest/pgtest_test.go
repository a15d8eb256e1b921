package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

func migrate(ctx context.Context, url, schema string) error {
	e, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
	if err != nil {
		return err
	}
	return e.Close()
}

// versions lists the migrations applied to the database at url.
func versions(t *testing.T, url string) []int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT version FROM apikeyd_schema ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestMigratedDatabasesAreCopiesOfOneTemplate: each test gets a database
// of its own already holding every migration, and what one test writes
// no other sees.
func TestMigratedDatabasesAreCopiesOfOneTemplate(t *testing.T) {
	schema, err := os.ReadFile("../../../../schema.postgres.sql")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := pgtest.NewMigratedDatabase(t, string(schema), migrate)
	second := pgtest.NewMigratedDatabase(t, string(schema), migrate)
	if first == second {
		t.Fatalf("two tests got one database: %s", first)
	}
	fresh := pgtest.NewDatabase(t)
	if err := migrate(ctx, fresh, string(schema)); err != nil {
		t.Fatal(err)
	}
	want := versions(t, fresh)
	for _, url := range []string{first, second} {
		if got := versions(t, url); len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%s holds migrations %v, want %v", url, got, want)
		}
	}
	conn, err := pgx.Connect(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE written_by_first (x int)"); err != nil {
		t.Fatal(err)
	}
	third := pgtest.NewMigratedDatabase(t, string(schema), migrate)
	other, err := pgx.Connect(ctx, third)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	var leaked bool
	if err := other.QueryRow(ctx, "SELECT to_regclass('written_by_first') IS NOT NULL").Scan(&leaked); err != nil {
		t.Fatal(err)
	}
	if leaked {
		t.Fatal("a database made after another test wrote to its own holds that write")
	}
}
