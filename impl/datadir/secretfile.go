package datadir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Create publishes text and a newline at path, in a file only its owner
// may read, unless a file is there already: then the error satisfies
// errors.Is(err, fs.ErrExist) and that file is left as it is. Of processes
// creating the same file at once, exactly one succeeds.
//
// The text is written and synced under a temporary name, then linked into
// place: the file appears whole, never empty or half written, and a link,
// unlike a rename, never replaces a file another process published first.
func Create(path, text string) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, text)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	err = os.Link(tmp, path)
	if rerr := os.Remove(tmp); err == nil && rerr != nil {
		err = fmt.Errorf("remove the temporary file: %w", rerr)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return syncDir(dir)
}

// Write publishes text and a newline at path, in a file only its owner may
// read, replacing any file there. As with Create, the file is whole the
// moment it appears.
func Write(path, text string) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, text)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// Rename renames from over to and syncs the directory, so that the rename
// survives a power cut.
func Rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("replace %s: %w", to, err)
	}
	return syncDir(filepath.Dir(to))
}

// writeTemp writes text and a newline to a new file in dir (mode 0600, as
// os.CreateTemp makes it) and syncs it; it returns the file's name.
func writeTemp(dir, text string) (string, error) {
	f, err := os.CreateTemp(dir, ".apikeyd-*.tmp")
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(text + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// syncDir makes the directory's entries (a file linked, renamed or
// removed) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
