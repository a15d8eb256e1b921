package driver_test

import (
	"reflect"
	"slices"
	"testing"

	pgdb "github.com/apikeyd/apikeyd/gen/db/postgres"
	sqlitedb "github.com/apikeyd/apikeyd/gen/db/sqlite"
	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// queryNames are the methods of a type that run a named query: sqlc's
// own plumbing (Close, WithTx) aside.
func queryNames(t reflect.Type) []string {
	var names []string
	for m := range t.Methods() {
		if m.Name != "Close" && m.Name != "WithTx" {
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestEnginesDefineTheSameQueries: the SQLite queries (queries/) and the
// PostgreSQL ones (sqlc.yaml's second block) name the same queries, and
// driver.Queries has exactly those: a query written for one engine only
// fails here, not on the engine nobody ran.
func TestEnginesDefineTheSameQueries(t *testing.T) {
	want := queryNames(reflect.TypeFor[driver.Queries]())
	for name, typ := range map[string]reflect.Type{
		"sqlite":   reflect.TypeFor[*sqlitedb.Queries](),
		"postgres": reflect.TypeFor[*pgdb.Queries](),
	} {
		if got := queryNames(typ); !slices.Equal(got, want) {
			t.Errorf("%s defines %v\ndriver.Queries has %v", name, got, want)
		}
	}
}

func TestParseMigrationsRefusesGaps(t *testing.T) {
	for _, schema := range []string{
		"CREATE TABLE a (id INTEGER);",
		"-- migration 2: skips 1\nCREATE TABLE a (id INTEGER);",
		"-- migration 1: a\n-- migration 1: again\n",
	} {
		if _, err := driver.ParseMigrations(schema); err == nil {
			t.Errorf("accepted %q", schema)
		}
	}
}
