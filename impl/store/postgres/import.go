package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// ErrNotEmpty: Import's target database already holds data, which a copy
// would mix with another database's ids.
var ErrNotEmpty = errors.New("the PostgreSQL database is not empty")

// schemaLog is the table of the migration log, which every migrated
// database holds a row of and Import leaves alone.
const schemaLog = "apikeyd_schema"

// Import copies tables, a whole database of another engine (driver.Table),
// into this one, which must hold no row outside its migration log
// (ErrNotEmpty), in one transaction under the migration lock and the
// write lock: servers starting meanwhile neither migrate under it nor
// write beside it, and a failure writes nothing. Rows keep their ids, and
// each identity column's sequence is set past the largest copied id, so
// that new rows get fresh ones. It is not bounded by the engine's
// timeout: a database of many rows takes longer.
func (e *Engine) Import(ctx context.Context, tables []driver.Table) error {
	err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
		for _, lock := range []int64{lockMigrations, lockWrites} {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lock); err != nil {
				return err
			}
		}
		targets, err := targetColumns(ctx, tx)
		if err != nil {
			return err
		}
		if err := refuseNonEmpty(ctx, tx, targets); err != nil {
			return err
		}
		for _, t := range tables {
			if err := importTable(ctx, tx, t, targets[t.Name]); err != nil {
				return fmt.Errorf("table %s: %w", t.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import: %w", dbError(ctx, err))
	}
	return nil
}

// targetColumns maps each table of the database's schema, but the
// migration log, to its columns.
func targetColumns(ctx context.Context, tx pgx.Tx) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> $1 ORDER BY table_name, ordinal_position`, schemaLog)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tables := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, err
		}
		tables[table] = append(tables[table], col)
	}
	return tables, rows.Err()
}

func refuseNonEmpty(ctx context.Context, tx pgx.Tx, tables map[string][]string) error {
	var holding []string
	for name := range tables {
		var rows bool
		if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s)", pgx.Identifier{name}.Sanitize())).Scan(&rows); err != nil {
			return err
		}
		if rows {
			holding = append(holding, name)
		}
	}
	if len(holding) > 0 {
		slices.Sort(holding)
		return fmt.Errorf("%w: %s hold rows", ErrNotEmpty, strings.Join(holding, ", "))
	}
	return nil
}

// importTable copies t's rows into the table of its name, whose columns
// are target, and moves the table's id sequence, if it has one, past
// them.
func importTable(ctx context.Context, tx pgx.Tx, t driver.Table, target []string) error {
	if target == nil {
		return errors.New("the PostgreSQL schema has no such table")
	}
	for _, col := range t.Columns {
		if !slices.Contains(target, col) {
			return fmt.Errorf("the PostgreSQL schema has no column %s", col)
		}
	}
	if len(t.Rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, t.Columns, pgx.CopyFromRows(t.Rows)); err != nil {
		return err
	}
	if !slices.Contains(t.Columns, "id") {
		return nil
	}
	// setval on the identity's sequence, when the table has one: the
	// next id is then one past the largest copied.
	_, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(seq, (SELECT max(id) FROM %[1]s))
		FROM pg_get_serial_sequence($1, 'id') AS seq WHERE seq IS NOT NULL`, pgx.Identifier{t.Name}.Sanitize()), t.Name)
	return err
}
