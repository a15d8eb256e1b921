package driver

// Table is one table of a database copied whole to another engine
// (sqlite.Engine.Export, postgres.Engine.Import): its name, its columns,
// and every row's values in column order, as the database/sql drivers
// give them (int64, []byte, string or nil for the types apikeyd's schemas
// use). Each engine's schema gives a table the same name and columns.
type Table struct {
	Name    string
	Columns []string
	Rows    [][]any
}
