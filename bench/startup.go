package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
	"github.com/apikeyd/apikeyd/impl/keys"
)

// startupKeys is the size of the seed a start in CI mode is measured
// with; the target is to be ready within 100 ms.
const startupKeys = 100

// startup is how long apikeyd in CI mode took from exec to ready, over
// several starts: wall time, and the CPU time it had used by then (user
// and system, all threads), which other work on the machine disturbs less.
type startup struct {
	wall, cpu []time.Duration // each sorted
}

func medianTime(ds []time.Duration) time.Duration { return ds[len(ds)/2] }

// row is the start-up's line in the report's table of measures.
func (s startup) row() string {
	return fmt.Sprintf("| start to ready in CI mode (`--db :memory: --seed` of %d keys `--fake-discord`, pinned to one core; median of %d starts, fastest %v, slowest %v; CPU used by ready: median %v) | %v | < 100 ms |\n",
		startupKeys, len(s.wall), s.wall[0].Round(100*time.Microsecond), s.wall[len(s.wall)-1].Round(100*time.Microsecond),
		medianTime(s.cpu).Round(time.Millisecond), medianTime(s.wall).Round(100*time.Microsecond))
}

// measureStartup builds apikeyd, writes a seed of startupKeys keys and
// starts it on :memory:, pinned to cpus, runs times, stopping it after
// each.
func measureStartup(ctx context.Context, cpus string, runs int) (startup, error) {
	dir, err := os.MkdirTemp("", "apikeyd-startup-")
	if err != nil {
		return startup{}, err
	}
	defer os.RemoveAll(dir)
	bin, err := harness.Build(ctx, ".", dir)
	if err != nil {
		return startup{}, err
	}
	seedFile := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seedFile, []byte(startupSeed()), 0o600); err != nil {
		return startup{}, err
	}
	var s startup
	for range runs {
		p, err := harness.Start(ctx, harness.Options{
			Binary: bin, DataDir: filepath.Join(dir, "data"), CPUs: cpus,
			Args: []string{"--db", ":memory:", "--seed", seedFile, "--fake-discord"},
		})
		if err != nil {
			return startup{}, err
		}
		cpu, err := harness.CPUTime(p.Pid())
		if err == nil {
			err = p.Stop()
		}
		if err != nil {
			p.Kill()
			return startup{}, err
		}
		s.wall, s.cpu = append(s.wall, p.Ready), append(s.cpu, cpu)
	}
	slices.Sort(s.wall)
	slices.Sort(s.cpu)
	return s, nil
}

// startupSeed is a seed of startupKeys keys: half guild keys, 25 to a
// guild, half user keys.
func startupSeed() string {
	var b strings.Builder
	b.WriteString("guilds:\n")
	for g := range startupKeys / 2 / 25 {
		fmt.Fprintf(&b, "  - id: \"10987654321098765%02d\"\n    administrators: [\"310987654321098765\"]\n    keys:\n", g)
		for range 25 {
			fmt.Fprintf(&b, "      - %s\n", newKey(keys.Guild))
		}
	}
	b.WriteString("user_keys:\n")
	for u := range startupKeys / 2 {
		fmt.Fprintf(&b, "  - {token: %s, user: ci-user-%d}\n", newKey(keys.User), u)
	}
	b.WriteString("discord_users:\n  - {token: ci-admin-token, id: \"310987654321098765\", username: ci-admin}\n")
	return b.String()
}

func newKey(k keys.Kind) string {
	token, err := keys.Generate(k)
	if err != nil {
		panic(err) // only an unknown kind fails
	}
	return token
}
