// Command load runs concurrent clients of mixed reads and writes against a
// real apikeyd (built from this module and started with a fake Discord)
// and fails unless every request got an answer it allows: no 5xx, no
// SQLITE_BUSY reaching a client, no transport error.
//
//	go run ./bench/load                  # 50 clients for 60 s
//	go run ./bench/load -clients 8 -duration 5s
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/bench/internal/harness"
)

const guild = "1098765432109876543"

func main() {
	clients := flag.Int("clients", 50, "concurrent clients")
	duration := flag.Duration("duration", 60*time.Second, "how long to run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *clients, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, clients int, duration time.Duration) error {
	dir, err := os.MkdirTemp("", "apikeyd-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := harness.Build(ctx, ".", dir)
	if err != nil {
		return err
	}
	discord := harness.StartDiscord()
	defer discord.Close()
	master := harness.NewMasterKey()
	data := dir + "/data"
	if err := harness.GuildAdmin(ctx, bin, data, master, guild, discord.AdminID); err != nil {
		return err
	}
	p, err := harness.Start(ctx, harness.Options{
		Binary: bin, DataDir: data, DiscordURL: discord.URL(), MasterKey: master,
		Args: []string{"--max-keys-per-guild", "1000000", "--auth-failure-rate", "0"},
	})
	if err != nil {
		return err
	}
	defer p.Stop()

	client := harness.Client(clients)
	key, err := createGuildKey(ctx, client, p.URL, discord.AdminToken)
	if err != nil {
		return err
	}
	w := workload{url: p.URL, admin: "Bearer " + discord.AdminToken, key: "Bearer " + key}
	fmt.Printf("apikeyd ready in %v; %d clients for %v of mixed reads and writes\n", p.Ready.Round(time.Millisecond), clients, duration)
	r := harness.Run(ctx, client, clients, duration, w.next, w.ok)

	fmt.Println(r)
	codes := make([]int, 0, len(r.Statuses))
	for c := range r.Statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Printf("  %d: %d\n", c, r.Statuses[c])
	}
	for _, s := range r.Samples {
		fmt.Printf("  error sample: status %d %s %s\n", s.Status, s.Err, s.Body)
	}
	logs := p.ErrorLogs()
	busy := 0
	for _, l := range logs {
		if strings.Contains(l, "SQLITE_BUSY") || strings.Contains(l, "database is locked") {
			busy++
		}
	}
	fmt.Printf("server errors logged: %d (SQLITE_BUSY: %d)\n", len(logs), busy)
	for _, l := range logs[:min(len(logs), 5)] {
		fmt.Println("  ", l)
	}
	if r.Errors > 0 || len(logs) > 0 {
		return fmt.Errorf("%d failed requests, %d server errors", r.Errors, len(logs))
	}
	fmt.Println("0 errors")
	return nil
}

func createGuildKey(ctx context.Context, client *http.Client, url, token string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/auth/api-key", strings.NewReader(`{"guild_id": "`+guild+`"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	if res.StatusCode != 200 {
		return "", fmt.Errorf("create guild key: %d %s", res.StatusCode, buf.String())
	}
	_, rest, _ := strings.Cut(buf.String(), `"api_key":"`)
	k, _, _ := strings.Cut(rest, `"`)
	return k, nil
}

// workload is the mix of operations each client draws from.
type workload struct{ url, admin, key string }

type op struct {
	weight       int
	method, path string
	auth         func(w workload) string
	body         func(worker, i int) string
}

var ops = []op{
	// Reads.
	{30, "GET", "/v1/settings?guild_id=" + guild, keyAuth, nil},
	{10, "GET", "/v1/auth/api-key?guild_id=" + guild, adminAuth, nil},
	{10, "GET", "/v1/modules/logging/entries?guild_id=" + guild + "&limit=50", keyAuth, nil},
	{10, "GET", "/apiKeys/getUserKeys/load-%d", systemAuth, nil},
	{5, "GET", "/v1/modules/logging/settings?guild_id=" + guild, keyAuth, nil},
	// Writes.
	{10, "POST", "/apiKeys/new/load-%d", systemAuth, nil},
	{5, "DELETE", "/apiKeys/remove/load-%d", systemAuth, nil},
	{10, "PUT", "/v1/settings", keyAuth, func(worker, i int) string {
		return fmt.Sprintf(`{"guild_id": "%s", "auto_delete": %d}`, guild, 1+(worker*7919+i)%600)
	}},
	{5, "PUT", "/v1/modules/logging/settings", keyAuth, func(worker, i int) string {
		return fmt.Sprintf(`{"guild_id": "%s", "log_info": %t}`, guild, i%2 == 0)
	}},
	{5, "POST", "/v1/auth/api-key", adminAuth, func(int, int) string { return `{"guild_id": "` + guild + `"}` }},
}

func keyAuth(w workload) string    { return w.key }
func adminAuth(w workload) string  { return w.admin }
func systemAuth(w workload) string { return harness.SystemKey }

var totalWeight = func() int {
	n := 0
	for _, o := range ops {
		n += o.weight
	}
	return n
}()

func (w workload) next(worker, i int) (*http.Request, error) {
	pick := rand.IntN(totalWeight)
	o := ops[len(ops)-1]
	for _, c := range ops {
		if pick < c.weight {
			o = c
			break
		}
		pick -= c.weight
	}
	path := o.path
	if strings.Contains(path, "%d") {
		path = fmt.Sprintf(path, worker)
	}
	var body *strings.Reader
	if o.body != nil {
		body = strings.NewReader(o.body(worker, i))
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(o.method, w.url+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", o.auth(w))
	if o.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// ok: every operation of the mix must succeed.
func (w workload) ok(status int) bool { return status == 200 }
