package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/apikeyd/apikeyd/impl/datadir"
)

// prepareDataFiles readies the data of cfg before the database opens: it
// makes the data directory, refuses to start a new database where a lost
// one left its key files, and takes other users' permissions off the files
// that earlier versions created open to them.
func prepareDataFiles(cfg Config, log *slog.Logger) error {
	if err := datadir.Make(cfg.DataDir); err != nil {
		return err
	}
	if err := refuseLostDatabase(cfg); err != nil {
		return err
	}
	return makeDataFilesPrivate(cfg, log)
}

// refuseLostDatabase fails when the database file is missing although the
// data directory holds master.key or system.key, which only a database
// that existed leaves: it was deleted or moved, and a new, empty one would
// silently lose every key and administrator. cfg.NewDatabase says that a
// new one is intended.
func refuseLostDatabase(cfg Config) error {
	path := cfg.DBPath()
	if path == ":memory:" || cfg.onPostgres() || cfg.NewDatabase {
		return nil
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there, or SQLite says what is wrong with it
	}
	held := datadir.KeyFiles(cfg.DataDir)
	if len(held) == 0 {
		return nil // a first start
	}
	return fmt.Errorf("no database at %s, but %s holds %s of one: restore the database from a backup, "+
		"or pass --new-database (APIKEYD_NEW_DATABASE=true) to start an empty one, without any key or administrator of the old one",
		path, cfg.DataDir, strings.Join(held, " and "))
}

// makeDataFilesPrivate makes the database files and the key files of cfg
// readable by their owner alone, and logs each file it changes: until then
// other users of the machine could read it.
func makeDataFilesPrivate(cfg Config, log *slog.Logger) error {
	var paths []string
	if db := cfg.DBPath(); db != ":memory:" && !cfg.onPostgres() {
		paths = append(paths, db, db+"-wal", db+"-shm")
	}
	masterKey, pendingMasterKey := datadir.MasterKeyPaths(cfg.DataDir)
	systemKey, pendingSystemKey := datadir.SystemKeyPaths(cfg.DataDir)
	paths = append(paths, masterKey, pendingMasterKey, systemKey, pendingSystemKey)
	changed, err := datadir.MakePrivate(paths...)
	for _, c := range changed {
		log.Warn("made a data file private: other users could read it until now",
			"path", c.Path, "was", fmt.Sprintf("%#o", c.From), "now", fmt.Sprintf("%#o", c.To))
	}
	return err
}
