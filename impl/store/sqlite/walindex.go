package sqlite

import "github.com/apikeyd/apikeyd/impl/store/driver"

// changes is the engine's driver.Changes: one server holds the database
// (driver.OneProcess), and what apikeyd guild-admin commits beside it
// moves the stamp of its wal-index (walIndex).
type changes struct {
	driver.OneProcess
	wal *walIndex // nil for ":memory:", which no other process opens
}

// Committed is the wal-index's stamp.
func (c changes) Committed() (uint64, bool) {
	if c.wal == nil {
		return c.OneProcess.Committed()
	}
	return c.wal.stamp()
}
