package app_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/store"
	"github.com/apikeyd/apikeyd/impl/store/postgres/pgtest"
)

// downBound is the longest a request may wait for a database that is
// down or does not answer: README's bound, above the engine's 4 s.
const downBound = 5 * time.Second

// TestPostgresDownAnswers503InTime: with PostgreSQL unreachable (its
// connections open and silent) or down (every connection dropped and
// refused), every request that needs the database gets 503 in its
// family's shape within 5 s, /v1/readyz among them, and once the database
// is back apikeyd serves again by itself.
func TestPostgresDownAnswers503InTime(t *testing.T) {
	p, proxied := pgtest.NewProxy(t, pgtest.NewDatabase(t))
	cfg := apptest.Config(t)
	cfg.DB = proxied
	inst := apptest.Start(t, &cfg)
	system := apptest.SystemKey
	inst.CreateUserKey(t, system, "alice")
	// Created and never used: no cache holds it, so each use asks the
	// database.
	guildKey, err := inst.Server.Store().CreateGuildKey(t.Context(), 5, store.APIKeyActor, 25)
	if err != nil {
		t.Fatal(err)
	}
	for _, outage := range p.Outages() {
		t.Run(outage.Name, func(t *testing.T) {
			outage.Start()
			for _, c := range []struct{ method, path, auth, family string }{
				{"GET", "/v1/readyz", "", "v1"},
				{"GET", "/v1/settings?guild_id=5", "Bearer " + guildKey.Token, "v1"},
				{"GET", "/apiKeys/getKeys", system, "apiKeys"},
				{"POST", "/apiKeys/new/bob", system, "apiKeys"},
				{"DELETE", "/apiKeys/remove/alice", system, "apiKeys"},
			} {
				began := time.Now()
				res, body := inst.Do(t, c.method, c.path, c.auth, nil)
				if took := time.Since(began); took > downBound {
					t.Errorf("%s %s took %v, want at most %v", c.method, c.path, took, downBound)
				}
				if res.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("%s %s: %d %s, want 503", c.method, c.path, res.StatusCode, body)
					continue
				}
				checkUnavailableShape(t, c.family, res, body)
			}
			p.Restore()
			deadline := time.Now().Add(15 * time.Second)
			for {
				res, body := inst.Do(t, "GET", "/v1/readyz", "", nil)
				if res.StatusCode == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not ready again after the outage: %d %s", res.StatusCode, body)
				}
				time.Sleep(100 * time.Millisecond)
			}
			key := inst.CreateUserKey(t, system, "carol")
			if res, body := inst.Do(t, "GET", "/apiKeys/getUserKeys/carol", system, nil); res.StatusCode != http.StatusOK || !json.Valid(body) || !containsToken(body, key) {
				t.Fatalf("after the outage: %d %s", res.StatusCode, body)
			}
		})
	}
}

// checkUnavailableShape checks a 503 body against its family's error
// shape: /apiKeys' {"error": {"code", "message"}}, /v1's problem.
func checkUnavailableShape(t *testing.T, family string, res *http.Response, body []byte) {
	t.Helper()
	switch family {
	case "apiKeys":
		var v struct {
			Error struct {
				Code    int
				Message string
			}
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Error.Code != 503 || v.Error.Message == "" || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("/apiKeys 503 body %s (%s)", body, res.Header.Get("Content-Type"))
		}
	case "v1":
		var v struct {
			Type   string
			Status int
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Status != 503 || v.Type != "urn:apikeyd:problem:unavailable" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("/v1 503 body %s (%s)", body, res.Header.Get("Content-Type"))
		}
	}
}

func containsToken(body []byte, token string) bool {
	var v struct{ Keys []struct{ Token string } }
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	for _, k := range v.Keys {
		if k.Token == token {
			return true
		}
	}
	return false
}
