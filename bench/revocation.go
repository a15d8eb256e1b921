package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

// The revocation scenario: replicas on one PostgreSQL database, keys
// deleted through the first and refused by the others.
const (
	replicaCount = 3
	revocations  = 100
	// revocationLimit fails the run: a deleted key still served this long
	// after its delete is no bound at all.
	revocationLimit = 5 * time.Second
)

// revocation is what the scenario measured: from the moment the first
// replica's answer to a DELETE arrived to the first 401 of each other
// replica for that key, which had it cached.
type revocation struct {
	postgres string // the server, as its version says; "" when none was named
	samples  []time.Duration
	// staleLocal counts deleted keys that the replica which deleted them
	// still accepted on its next request (it must refuse them at once).
	staleLocal int
}

// measureRevocation runs the scenario on a database of its own on the
// PostgreSQL server at admin (a URL whose role may create databases).
func measureRevocation(ctx context.Context, bin string, discord *harness.Discord, admin string) (revocation, error) {
	db, version, drop, err := createDatabase(ctx, admin)
	if err != nil {
		return revocation{}, err
	}
	defer drop()
	r := revocation{postgres: version}
	dir, err := os.MkdirTemp("", "apikeyd-bench-replicas-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	master := harness.NewMasterKey()
	onDB := []string{"APIKEYD_DB=" + db}
	if err := harness.GuildAdmin(ctx, bin, filepath.Join(dir, "admin"), master, smallGuild, discord.AdminID, onDB...); err != nil {
		return r, err
	}
	var replicas []*harness.Process
	defer func() {
		for _, p := range replicas {
			p.Stop()
		}
	}()
	for i := range replicaCount {
		p, err := harness.Start(ctx, harness.Options{
			Binary: bin, DataDir: filepath.Join(dir, fmt.Sprint(i)), DiscordURL: discord.URL(), MasterKey: master,
			Args: []string{"--max-keys-per-guild", "1000000", "--auth-failure-rate", "0"}, Env: onDB,
		})
		if err != nil {
			return r, fmt.Errorf("replica %d: %w", i, err)
		}
		replicas = append(replicas, p)
	}
	writer, readers := replicas[0], replicas[1:]
	e := &env{discord: discord}
	for range revocations {
		e.proc = writer
		key, err := e.createGuildKey(ctx, smallGuild)
		if err != nil {
			return r, err
		}
		for _, p := range readers {
			// Used once, so that each reader has it cached.
			if status, err := useKey(ctx, p, key); err != nil || status != http.StatusOK {
				return r, fmt.Errorf("a new key on another replica: %d %v", status, err)
			}
		}
		deleted, err := deleteGuildKey(ctx, writer, discord.AdminToken, key)
		if err != nil {
			return r, err
		}
		samples, err := timeRefusals(ctx, readers, key, deleted)
		if err != nil {
			return r, err
		}
		r.samples = append(r.samples, samples...)
		if status, err := useKey(ctx, writer, key); err != nil || status != http.StatusUnauthorized {
			r.staleLocal++
		}
	}
	return r, nil
}

// timeRefusals polls each replica with key, one client each, as fast as
// it answers, and returns the time from deleted to each one's first 401.
func timeRefusals(ctx context.Context, replicas []*harness.Process, key string, deleted time.Time) ([]time.Duration, error) {
	samples := make([]time.Duration, len(replicas))
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for i, p := range replicas {
		wg.Go(func() {
			for {
				status, err := useKey(ctx, p, key)
				took := time.Since(deleted)
				switch {
				case err != nil:
					errs[i] = err
					return
				case status == http.StatusUnauthorized:
					samples[i] = took
					return
				case status != http.StatusOK:
					errs[i] = fmt.Errorf("a key being revoked: %d", status)
					return
				case took > revocationLimit:
					errs[i] = fmt.Errorf("a deleted key still served %v after its delete", took)
					return
				}
			}
		})
	}
	wg.Wait()
	return samples, errors.Join(errs...)
}

// useKey is a key-authenticated read of the small guild's settings.
func useKey(ctx context.Context, p *harness.Process, key string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/v1/settings?guild_id="+smallGuild, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// deleteGuildKey deletes key through p and returns when its answer
// arrived.
func deleteGuildKey(ctx context.Context, p *harness.Process, adminToken, key string) (time.Time, error) {
	body := `{"guild_id": "` + smallGuild + `", "api_key": "` + key + `"}`
	req, _ := http.NewRequestWithContext(ctx, "DELETE", p.URL+"/v1/auth/api-key", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("delete a guild key: %d", res.StatusCode)
	}
	return time.Now(), nil
}

// createDatabase creates an empty database on the server at admin and
// returns its URL, the server's version, and what drops it.
func createDatabase(ctx context.Context, admin string) (db, version string, drop func(), err error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", nil, fmt.Errorf("the PostgreSQL URL: %w", err)
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return "", "", nil, err
	}
	// rand.Text is base32: upper-case letters and digits, which an
	// identifier holds once quoted.
	name := "apikeyd_bench_" + rand.Text()[:16]
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %q", name)); err != nil {
		return "", "", nil, fmt.Errorf("create the bench's database: %w", err)
	}
	drop = func() {
		conn, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop database", name+":", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), fmt.Sprintf("DROP DATABASE %q WITH (FORCE)", name)); err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop database", name+":", err)
		}
	}
	u.Path = "/" + name
	return u.String(), version, drop, nil
}

// String is the scenario's part of the report.
func (r revocation) String() string {
	var b strings.Builder
	b.WriteString("\n## Revocation across replicas (PostgreSQL)\n\n")
	if r.postgres == "" {
		b.WriteString("Not measured: no PostgreSQL server was named (`go run ./bench -postgres URL`, or `APIKEYD_BENCH_POSTGRES`).\n")
		return b.String()
	}
	s := slices.Clone(r.samples)
	slices.Sort(s)
	fmt.Fprintf(&b, "%d apikeyd processes (not pinned, sharing the machine with PostgreSQL %s on loopback) on one database of their own. ", replicaCount, r.postgres)
	fmt.Fprintf(&b, "%d times: a guild key created through the first and used once through each other (so that each has it cached), then deleted through the first; ", revocations)
	b.WriteString("from the moment the DELETE's 200 arrived, one client per other replica sends the key again as soon as each answer arrives, and the sample is the time to its first 401 (each poll's own round trip included: an upper bound).\n\n")
	b.WriteString("| samples | p50 | p99 | max | bound | deleted keys the deleting replica still accepted |\n|---:|---:|---:|---:|---|---:|\n")
	fmt.Fprintf(&b, "| %d | %s | %s | %s | < 1 s | %d |\n", len(s), us(s[len(s)/2]), us(s[len(s)*99/100]), us(s[len(s)-1]), r.staleLocal)
	return b.String()
}
