package hostile_test

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the snapshot's read-only connection
)

// What "change nothing" is checked against: a dump of the whole database,
// read over a second, read-only connection before and after the battery.

// openReadOnly opens a second, read-only connection to the database file.
func openReadOnly(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// snapshot dumps the schema and every row of every table as text.
func snapshot(t *testing.T, db *sql.DB) string {
	t.Helper()
	var out strings.Builder
	dump := func(query string) {
		rows, err := db.Query(query)
		if err != nil {
			t.Fatalf("snapshot %s: %v", query, err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s\n  %s\n", query, strings.Join(cols, " | "))
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			cells := make([]string, len(vals))
			for i, v := range vals {
				switch v := v.(type) {
				case nil:
					cells[i] = "NULL"
				case []byte:
					cells[i] = "x'" + hex.EncodeToString(v) + "'"
				case string:
					cells[i] = strconv.Quote(v)
				default:
					cells[i] = fmt.Sprintf("%T(%v)", v, v)
				}
			}
			fmt.Fprintf(&out, "  %s\n", strings.Join(cells, " | "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	dump("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
	dump("PRAGMA user_version")
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 8 {
		t.Fatalf("snapshot: only tables %v", tables)
	}
	for _, name := range tables {
		dump(`SELECT * FROM "` + strings.ReplaceAll(name, `"`, `""`) + `" ORDER BY 1`)
	}
	return out.String()
}

func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out.WriteString("- " + l + "\n")
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out.WriteString("+ " + l + "\n")
		}
	}
	return out.String()
}
