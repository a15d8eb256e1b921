// Package pgtest gives tests databases of their own on the PostgreSQL
// server that APIKEYD_TEST_POSTGRES names.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the URL of a database on
// a PostgreSQL server where the tests may create and drop databases (the
// role needs CREATEDB), e.g. postgres://postgres@127.0.0.1:5432/postgres.
// Unset, the PostgreSQL tests are skipped.
const EnvVar = "APIKEYD_TEST_POSTGRES"

// Enabled reports whether EnvVar names a server.
func Enabled() bool { return os.Getenv(EnvVar) != "" }

// NewDatabase creates an empty database for the test, dropped when it
// ends, and returns its URL; it skips the test when EnvVar is unset. Each
// test needs a database of its own, not a schema: apikeyd's advisory
// locks are per database.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "")
}

// Migrate applies schema to the database at url and closes every
// connection it opened: postgres.Open and Close, which this package
// cannot import (the engine's own tests use it).
type Migrate func(ctx context.Context, url, schema string) error

// NewMigratedDatabase is NewDatabase with schema's migrations already
// applied: a copy of a template database that migrate brought to schema
// once per server, which costs about half of creating and migrating one
// (the contract replay makes hundreds). Tests of migrating itself take
// NewDatabase.
func NewMigratedDatabase(t testing.TB, schema string, migrate Migrate) string {
	t.Helper()
	return newDatabase(t, migratedTemplate(t, schema, migrate))
}

// newDatabase creates the test's database as a copy of template (the
// server's default when empty) and drops it when the test ends.
func newDatabase(t testing.TB, template string) string {
	t.Helper()
	admin := adminURL(t)
	name := "apikeyd_test_" + rand.Text()[:16]
	create := fmt.Sprintf("CREATE DATABASE %q", name)
	if template != "" {
		create += fmt.Sprintf(" TEMPLATE %q", template)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	// rand.Text is base32: upper-case letters and digits, which an
	// identifier holds once quoted.
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), fmt.Sprintf("DROP DATABASE %q WITH (FORCE)", name)); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return databaseURL(t, admin, name)
}

// databaseURL is the URL admin with the database name in its place.
func databaseURL(t testing.TB, admin, name string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String()
}

// adminURL is EnvVar's URL; it skips the test when EnvVar is unset.
func adminURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvVar)
	if admin == "" {
		t.Skipf("%s is not set: no PostgreSQL server to test on", EnvVar)
	}
	return admin
}

// lockTemplates serialises making templates across the test binaries
// that go test runs in parallel, on the server's admin database.
const lockTemplates = 0x61706b745f746d70 // "apkt_tmp"

// migratedTemplate returns the name of a database holding schema's
// migrations and nothing else, making it the first time any test process
// asks. Its name is the schema's hash, so that a changed schema gets a
// template of its own and a stale one is never copied.
func migratedTemplate(t testing.TB, schema string, migrate Migrate) string {
	t.Helper()
	admin := adminURL(t)
	sum := sha256.Sum256([]byte(schema))
	name := "apikeyd_template_" + hex.EncodeToString(sum[:8])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockTemplates); err != nil {
		t.Fatalf("lock templates: %v", err)
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockTemplates)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("look for template %s: %v", name, err)
	}
	if exists {
		return name
	}
	// Migrated under a scratch name and renamed once complete: a process
	// killed midway leaves no half-migrated template behind the name.
	scratch := name + "_" + strings.ToLower(rand.Text()[:8])
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %q", scratch)); err != nil {
		t.Fatalf("create template %s: %v", name, err)
	}
	// A template being copied must have no connection: migrate closes
	// its own.
	if err := migrate(ctx, databaseURL(t, admin, scratch), schema); err != nil {
		t.Fatalf("migrate template %s: %v", name, err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %q RENAME TO %q", scratch, name)); err != nil {
		t.Fatalf("name template %s: %v", name, err)
	}
	return name
}
