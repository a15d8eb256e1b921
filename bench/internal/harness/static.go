package harness

import (
	"debug/elf"
	"fmt"
)

// CheckStatic says why the ELF binary at path is not static: an
// interpreter (the dynamic loader) or shared libraries it needs.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("check static: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("check static: %s has an interpreter (PT_INTERP): it is linked dynamically", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("check static: %s: %w", path, err)
	}
	if len(libs) > 0 {
		return fmt.Errorf("check static: %s needs shared libraries (DT_NEEDED) %v", path, libs)
	}
	return nil
}
