package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/apikeyd/apikeyd/impl/store/driver"
	"github.com/apikeyd/apikeyd/impl/store/postgres"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
	"github.com/apikeyd/apikeyd/impl/store/storetest"
)

// TestConformance runs the store's conformance suite on PostgreSQL, a
// database of its own for each test; it is skipped unless
// APIKEYD_TEST_POSTGRES names a server.
func TestConformance(t *testing.T) {
	schema := postgresSchema(t)
	storetest.Run(t, func(t *testing.T) func(t *testing.T) driver.Engine {
		url := pgtest.NewDatabase(t)
		return func(t *testing.T) driver.Engine {
			e, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	})
}

func postgresSchema(t *testing.T) string {
	t.Helper()
	schema, err := os.ReadFile("../../../schema.postgres.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(schema)
}
