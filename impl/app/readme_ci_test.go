package app_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	yaml "github.com/oasdiff/yaml3"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/seed"
)

// ciSection is README.md's "Use apikeyd in your CI": its seed example,
// its shell recipe and its GitHub Actions job, as written there.
type ciSection struct {
	seed, recipe, job string
}

var fence = regexp.MustCompile("(?ms)^```(\\w+)\n(.*?)^```\n")

func readCISection(t *testing.T) ciSection {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Use apikeyd in your CI\n")
	if !ok {
		t.Fatal(`README.md has no "Use apikeyd in your CI" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks [][]string
	for _, m := range fence.FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1:])
	}
	if len(blocks) != 3 || blocks[0][0] != "yaml" || blocks[1][0] != "sh" || blocks[2][0] != "yaml" {
		t.Fatalf("want the seed (yaml), the recipe (sh) and the job (yaml), got %d blocks", len(blocks))
	}
	return ciSection{seed: blocks[0][1], recipe: blocks[1][1], job: blocks[2][1]}
}

// recipe is what the shell recipe runs: the exported environment, the
// version it installs and apikeyd's command line.
type recipe struct {
	env     map[string]string
	version string
	serve   []string // after "apikeyd"
}

func parseRecipe(t *testing.T, text string) recipe {
	t.Helper()
	r := recipe{env: map[string]string{}}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			r.env[k] = v
		}
		if pkg, ok := strings.CutPrefix(line, "CGO_ENABLED=0 go install github.com/apikeyd/apikeyd@"); ok {
			r.version = pkg
		} else if strings.Contains(line, "go install github.com/apikeyd/apikeyd@") {
			t.Errorf("the recipe installs apikeyd with cgo, not static as README's Build says: %q", line)
		}
		if cmd, ok := strings.CutPrefix(line, "apikeyd serve "); ok {
			r.serve = append([]string{"serve"}, strings.Fields(strings.TrimSuffix(cmd, "&"))...)
		}
	}
	if r.serve == nil || r.version == "" {
		t.Fatalf("the recipe installs no pinned version or runs no apikeyd serve:\n%s", text)
	}
	return r
}

// TestTheReadmesCIRecipeWorks starts apikeyd as README.md's shell recipe
// does, with its seed example, and uses it as a project's tests would.
func TestTheReadmesCIRecipeWorks(t *testing.T) {
	section := readCISection(t)
	r := parseRecipe(t, section.recipe)
	example, err := seed.Parse("apikeyd-seed.yaml", []byte(section.seed), 25)
	if err != nil {
		t.Fatalf("the README's seed example is refused: %v", err)
	}

	// In a directory of its own, as a project's CI runs it: the seed file
	// at the path the recipe names, the data directory its default.
	schema := apptest.Schema(t)
	dir := t.TempDir()
	seedPath := r.serve[slices.Index(r.serve, "--seed")+1]
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(seedPath)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, seedPath), []byte(section.seed), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	args := slices.Clone(r.serve)
	addr := slices.Index(args, "--addr") + 1
	host, _, err := net.SplitHostPort(args[addr])
	if err != nil || !net.ParseIP(host).IsLoopback() {
		t.Fatalf("the recipe listens on %q", args[addr])
	}
	args[addr] = net.JoinHostPort(host, "0") // a free port of the test's own
	url, _ := serveCIModeWithSchema(t, schema, args[1:], r.env)

	get := func(method, path, auth, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, url+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get("GET", "/v1/readyz", "", ""); status != 200 {
		t.Fatalf("readyz: %d %s", status, body)
	}
	guild := example.Store.Guilds[0]
	login := "Bearer " + example.DiscordUsers[0].Token
	seededKey := guild.Keys[0].Token

	status, body := get("GET", "/v1/auth/api-key?guild_id="+guild.ID.String(), login, "")
	if status != 200 || !strings.Contains(body, seededKey) {
		t.Fatalf("list with the seed's token: %d %s", status, body)
	}
	status, body = get("POST", "/v1/auth/api-key", login, `{"guild_id": "`+guild.ID.String()+`"}`)
	var created struct {
		Data struct {
			APIKey struct {
				APIKey string `json:"api_key"`
			} `json:"api_key"`
		}
	}
	if err := json.Unmarshal([]byte(body), &created); status != 200 || err != nil {
		t.Fatalf("create: %d %s", status, body)
	}
	for _, key := range []string{seededKey, created.Data.APIKey.APIKey} {
		status, body = get("GET", "/v1/settings?guild_id="+guild.ID.String(), "Bearer "+key, "")
		if status != 200 || !strings.Contains(body, `"language":"`+*guild.Settings.Language+`"`) {
			t.Fatalf("settings with a guild key: %d %s", status, body)
		}
	}
	userKey := example.Store.UserKeys[0]
	status, body = get("GET", "/apiKeys/getUserKeys/"+userKey.User, r.env["APIKEYD_SYSTEM_KEY"], "")
	if status != 200 || !strings.Contains(body, userKey.Token) {
		t.Fatalf("the seeded user key: %d %s", status, body)
	}
	status, body = get("GET", "/apiKeys/getKeys", userKey.Token, "")
	if status != 403 || !strings.Contains(body, "Invalid authorization Key!") {
		t.Fatalf("the seeded user key on /apiKeys: %d %s", status, body)
	}
}

// TestTheReadmesCIJobRunsTheRecipe: the GitHub Actions job installs the
// version the recipe installs and starts apikeyd with the recipe's
// command line and environment, then waits for readiness.
func TestTheReadmesCIJobRunsTheRecipe(t *testing.T) {
	section := readCISection(t)
	r := parseRecipe(t, section.recipe)
	var workflow struct {
		Jobs map[string]struct {
			Env   map[string]string `yaml:"env"`
			Steps []struct {
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(section.job), &workflow); err != nil {
		t.Fatalf("the job is not YAML: %v", err)
	}
	job, ok := workflow.Jobs["test"]
	if !ok {
		t.Fatal("no job named test")
	}
	if job.Env["APIKEYD_VERSION"] != r.version {
		t.Errorf("the job installs %q, the recipe %q", job.Env["APIKEYD_VERSION"], r.version)
	}
	for k, v := range r.env {
		if job.Env[k] != v {
			t.Errorf("the job's %s is %q, the recipe's %q", k, job.Env[k], v)
		}
	}
	var script strings.Builder
	for _, s := range job.Steps {
		script.WriteString(s.Run + "\n")
	}
	want := []string{
		"CGO_ENABLED=0 go install github.com/apikeyd/apikeyd@$APIKEYD_VERSION",
		"apikeyd " + strings.Join(r.serve, " ") + " > apikeyd.log 2>&1 &",
		`"$APIKEYD_URL/v1/readyz"`,
		"go test ./...",
	}
	at := 0
	for _, w := range want {
		i := strings.Index(script.String()[at:], w)
		if i < 0 {
			t.Fatalf("the job does not run %q after what precedes it:\n%s", w, script.String())
		}
		at += i + len(w)
	}
	if u := job.Env["APIKEYD_URL"]; u != "http://"+r.serve[slices.Index(r.serve, "--addr")+1] {
		t.Errorf("APIKEYD_URL %q is not where the recipe listens", u)
	}
}

// TestTheReadmesPinnedVersionIsACommitOfMain: no release is tagged, so
// the recipe pins a pseudo-version; its time and hash are those of a
// commit that this checkout's HEAD descends from, which go install finds
// once that history is published.
func TestTheReadmesPinnedVersionIsACommitOfMain(t *testing.T) {
	r := parseRecipe(t, readCISection(t).recipe)
	m := regexp.MustCompile(`^v0\.0\.0-([0-9]{14})-([0-9a-f]{12})$`).FindStringSubmatch(r.version)
	if m == nil {
		t.Fatalf("the recipe pins %q, not the pseudo-version of a commit", r.version)
	}
	show := exec.Command("git", "show", "-s", "--format=%cd", "--date=format-local:%Y%m%d%H%M%S", m[2]+"^{commit}")
	show.Env = append(os.Environ(), "TZ=UTC")
	out, err := show.Output()
	if err != nil {
		t.Skipf("no git history with commit %s here (%v)", m[2], err)
	}
	if got := strings.TrimSpace(string(out)); got != m[1] {
		t.Errorf("commit %s was made at %s (UTC), the pseudo-version says %s", m[2], got, m[1])
	}
	if err := exec.Command("git", "merge-base", "--is-ancestor", m[2], "HEAD").Run(); err != nil {
		t.Errorf("commit %s is not in HEAD's history: %v", m[2], err)
	}
}
