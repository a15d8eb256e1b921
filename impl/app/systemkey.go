package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

// minSystemKeyLength bounds a System key given by the operator; one
// apikeyd generates is a full user key.
const minSystemKeyLength = 16

const rotateSystemUsage = `Usage:
  apikeyd rotate-system-key [--data-dir D] [--db F]

Replaces the System key of the /apiKeys routes, in one transaction: the old
key stops working and every other key stays.

The new key is APIKEYD_NEW_SYSTEM_KEY (16 or more characters, used
verbatim) when it is set; <data-dir>/system.key, which held the old key, is
then removed. Otherwise a new key is generated into <data-dir>/system.key
(mode 0600), replacing the old one there.

apikeyd must not be serving this database while the key changes (a server
would go on accepting the old key from memory): stop it, rotate, start it.
`

// rotateSystemKey runs `apikeyd rotate-system-key`.
func rotateSystemKey(ctx context.Context, env Env, args []string) error {
	var cfg Config
	fs, err := dataCommandFlags("apikeyd rotate-system-key", rotateSystemUsage, env, &cfg)
	if err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := env.Getenv("APIKEYD_NEW_SYSTEM_KEY")
	generate := token == ""
	if generate && cfg.onPostgres() {
		return fmt.Errorf("%w: give the new System key in APIKEYD_NEW_SYSTEM_KEY", errKeysNotFromEnvironment)
	}
	if !generate {
		if err := checkSystemKey("APIKEYD_NEW_SYSTEM_KEY", token); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))
	st, unlock, err := openLockedStore(ctx, cfg, env.Schemas, log)
	if err != nil {
		return err
	}
	defer unlock()
	defer st.Close()
	if err := finishSystemKeyRotation(ctx, st, cfg.DataDir, log); err != nil {
		return err
	}
	current, pending := datadir.SystemKeyPaths(cfg.DataDir)
	if generate {
		if token, err = keys.Generate(keys.User); err != nil {
			return fmt.Errorf("generate system key: %w", err)
		}
		// On disk before the database depends on it; the next start
		// finishes the rotation if this process dies in between.
		if err := datadir.Create(pending, token); err != nil {
			return fmt.Errorf("write system key: %w", err)
		}
	}
	if err := st.ReplaceSystemKey(ctx, token); err != nil {
		if generate {
			os.Remove(pending)
		}
		return err
	}
	if generate {
		if err := datadir.Rename(pending, current); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "replaced the System key; the new one is in %s\n", current)
		return nil
	}
	switch err := os.Remove(current); {
	case err == nil:
		fmt.Fprintf(env.Stdout, "removed %s, which held the old System key\n", current)
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("remove the old system key file: %w", err)
	}
	fmt.Fprintln(env.Stdout, "replaced the System key with APIKEYD_NEW_SYSTEM_KEY")
	return nil
}

// finishSystemKeyRotation settles a rotation that died between the
// database and the key file, which system.key.new then still holds: if
// the database has that key, the file replaces system.key; if not, the
// rotation never happened and the file goes.
func finishSystemKeyRotation(ctx context.Context, st *store.Store, dataDir string, log *slog.Logger) error {
	current, pending := datadir.SystemKeyPaths(dataDir)
	b, err := os.ReadFile(pending)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", pending, err)
	}
	owner, err := st.UserKeyOwner(ctx, string(trimNewline(b)))
	switch {
	case err == nil && owner == store.SystemUser:
		if err := datadir.Rename(pending, current); err != nil {
			return err
		}
		log.Info("finished an interrupted System key rotation", "path", current)
		return nil
	case err == nil || errors.Is(err, store.ErrKeyNotFound):
		if err := os.Remove(pending); err != nil {
			return fmt.Errorf("remove %s: %w", pending, err)
		}
		log.Info("removed the key file of a System key rotation that did not happen", "path", pending)
		return nil
	default:
		return err
	}
}

// installSystemKey installs the System key on first start: the one from
// the environment, else the one in <data-dir>/system.key, else a new one
// written there. Its value is never logged; only the file's path is.
func (s *Server) installSystemKey(ctx context.Context) error {
	if err := finishSystemKeyRotation(ctx, s.store, s.cfg.DataDir, s.log); err != nil {
		return err
	}
	has, err := s.store.HasSystemKey(ctx)
	if err != nil || has {
		if has && s.cfg.SystemKey != "" {
			s.log.Warn("APIKEYD_SYSTEM_KEY is ignored: a System key is installed already (apikeyd rotate-system-key replaces it)")
		}
		return err
	}
	token := s.cfg.SystemKey
	if token == "" {
		path, _ := datadir.SystemKeyPaths(s.cfg.DataDir)
		var created bool
		if token, created, err = loadOrCreateSystemKey(path); err != nil {
			return err
		}
		if created {
			s.log.Info("generated the System key; it is in this file, readable only by you", "path", path)
		}
	}
	if _, err := s.store.InstallSystemKey(ctx, token); err != nil {
		return err
	}
	return nil
}

// loadOrCreateSystemKey reads the System key file at path, or creates it
// (the data directory exists: the store is open). Of processes creating it
// at once, one does and the others use its key.
func loadOrCreateSystemKey(path string) (token string, created bool, err error) {
	token, err = readSystemKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return token, false, err
	}
	if token, err = keys.Generate(keys.User); err != nil {
		return "", false, fmt.Errorf("generate system key: %w", err)
	}
	switch err := datadir.Create(path, token); {
	case errors.Is(err, fs.ErrExist):
		token, err = readSystemKey(path) // another process created it first
		return token, false, err
	case err != nil:
		return "", false, fmt.Errorf("write system key: %w", err)
	}
	return token, true, nil
}

// readSystemKey reads a System key file, refusing one that other users may
// read, as the master key file is.
func readSystemKey(path string) (string, error) {
	b, err := datadir.ReadPrivate(path, 1024)
	if err != nil {
		return "", fmt.Errorf("read system key: %w", err)
	}
	token := string(trimNewline(b))
	if err := checkSystemKey("system key file "+path, token); err != nil {
		return "", err
	}
	return token, nil
}

// checkSystemKey refuses a System key, given by the operator, that would
// be installed and never work: too short, or beginning or ending with
// whitespace, which HTTP takes off a header value before apikeyd sees it.
// source names where the key comes from.
func checkSystemKey(source, token string) error {
	if len(token) < minSystemKeyLength {
		return fmt.Errorf("%s: want at least %d characters", source, minSystemKeyLength)
	}
	if strings.TrimSpace(token) != token {
		return fmt.Errorf("%s begins or ends with whitespace, which HTTP clients and servers take off a header value: remove it", source)
	}
	return nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
