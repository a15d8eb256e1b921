// Package pgtest gives tests databases of their own on the PostgreSQL
// server that APIKEYD_TEST_POSTGRES names.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
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
	admin := os.Getenv(EnvVar)
	if admin == "" {
		t.Skipf("%s is not set: no PostgreSQL server to test on", EnvVar)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	name := "apikeyd_test_" + rand.Text()[:16]
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	// rand.Text is base32: upper-case letters and digits, which an
	// identifier holds once quoted.
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %q", name)); err != nil {
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
	u.Path = "/" + name
	return u.String()
}
