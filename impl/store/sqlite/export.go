package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// Export reads every table of the database in one transaction, so that
// the copy is of one moment: each table after the tables its foreign keys
// name, its rows in primary key order. The migration log is SQLite's
// user_version, not a table, and is not part of it.
func (e *Engine) Export(ctx context.Context) ([]driver.Table, error) {
	var tables []driver.Table
	err := inTx(ctx, e.db, e.file, func(tx *sql.Tx) error {
		names, err := tablesParentsFirst(ctx, tx)
		if err != nil {
			return err
		}
		for _, name := range names {
			t, err := exportTable(ctx, tx, name)
			if err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
			tables = append(tables, t)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: %w", dbError(err))
	}
	return tables, nil
}

// tablesParentsFirst names the tables of the database, each after the
// tables it references.
func tablesParentsFirst(ctx context.Context, tx *sql.Tx) ([]string, error) {
	names, err := column[string](ctx, tx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, name := range names {
		if parents[name], err = column[string](ctx, tx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, name); err != nil {
			return nil, err
		}
	}
	var ordered []string
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		if slices.Contains(ordered, name) {
			return nil
		}
		if slices.Contains(path, name) {
			return fmt.Errorf("tables %v reference each other in a cycle", path)
		}
		for _, p := range parents[name] {
			if p != name {
				if err := visit(p, append(path, name)); err != nil {
					return err
				}
			}
		}
		ordered = append(ordered, name)
		return nil
	}
	for _, name := range names {
		if err := visit(name, nil); err != nil {
			return nil, err
		}
	}
	return ordered, nil
}

func exportTable(ctx context.Context, tx *sql.Tx, name string) (driver.Table, error) {
	// The name comes from sqlite_schema; quoting keeps it one identifier.
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM "%s" ORDER BY 1`, name))
	if err != nil {
		return driver.Table{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return driver.Table{}, err
	}
	t := driver.Table{Name: name, Columns: cols}
	for rows.Next() {
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return driver.Table{}, err
		}
		t.Rows = append(t.Rows, values)
	}
	return t, rows.Err()
}

// column is the first column of every row that query returns.
func column[T any](ctx context.Context, tx *sql.Tx, query string, args ...any) ([]T, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
