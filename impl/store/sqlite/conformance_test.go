package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apikeyd/apikeyd/impl/store/driver"
	"github.com/apikeyd/apikeyd/impl/store/sqlite"
	"github.com/apikeyd/apikeyd/impl/store/storetest"
)

func TestConformance(t *testing.T) {
	schema, err := os.ReadFile("../../../schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) func(t *testing.T) driver.Engine {
		path := filepath.Join(t.TempDir(), "apikeyd.db")
		return func(t *testing.T) driver.Engine {
			e, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Schema: string(schema)})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	})
}
