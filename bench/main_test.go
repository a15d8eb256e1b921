package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/seed"
)

func TestWriteMarkedKeepsWhatIsOutsideTheMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	hand := "# Benchmarks\n\nWritten by hand.\n\n"
	after := "\n## What the profiles said\n\nAlso by hand.\n"
	if err := os.WriteFile(path, []byte(hand+"<!-- bench:begin -->\nold numbers\n<!-- bench:end -->\n"+after), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, report := range []string{"first run\n", "second run\n"} {
		if err := writeMarked(path, report); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := string(b)
		if !strings.HasPrefix(got, hand+beginMarker) || !strings.HasSuffix(got, endMarker+"\n"+after) {
			t.Errorf("hand-written parts changed:\n%s", got)
		}
		if !strings.Contains(got, report) || strings.Contains(got, "old numbers") || strings.Count(got, beginMarker) != 1 {
			t.Errorf("marked part is not the report %q:\n%s", report, got)
		}
	}
}

func TestWriteMarkedRefusesAFileWithoutMarkers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	const hand = "# Benchmarks\n\nAll by hand.\n"
	if err := os.WriteFile(path, []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeMarked(path, "numbers\n"); err == nil {
		t.Fatal("no error for a file without markers")
	}
	if b, _ := os.ReadFile(path); string(b) != hand {
		t.Errorf("file changed: %q", b)
	}
}

func TestWriteMarkedCreatesAMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := writeMarked(path, "numbers\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if got := string(b); !strings.Contains(got, beginMarker) || !strings.Contains(got, "numbers\n"+endMarker) {
		t.Errorf("got %q", got)
	}
}

func TestTheStartUpSeedIsAValidSeedOfItsKeys(t *testing.T) {
	s, err := seed.Parse("seed.yaml", []byte(startupSeed()), 25)
	if err != nil {
		t.Fatal(err)
	}
	n := len(s.Store.UserKeys)
	for _, g := range s.Store.Guilds {
		n += len(g.Keys)
	}
	if n != startupKeys || len(s.DiscordUsers) != 1 {
		t.Fatalf("%d keys and %d Discord users, want %d and 1", n, len(s.DiscordUsers), startupKeys)
	}
}
