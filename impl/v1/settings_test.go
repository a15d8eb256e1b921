package v1_test

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestSettingsAreOneFactWithTheLoggingModule(t *testing.T) {
	w := newWorld(t)
	g := guild.String()
	admin := "Bearer " + adminToken
	moduleLogging := func() bool {
		_, body := w.call(t, "GET", "/v1/settings?guild_id="+g, admin, "")
		data := decodeData[struct {
			Settings struct {
				ModuleLogging bool `json:"module_logging"`
			} `json:"settings"`
		}](t, body)
		return data.Settings.ModuleLogging
	}
	if moduleLogging() {
		t.Fatal("logging on by default")
	}
	w.call(t, "POST", "/v1/modules/logging/enable", admin, `{"guild_id": "`+g+`"}`)
	if !moduleLogging() {
		t.Fatal("enable did not show in module_logging")
	}
	res, body := w.call(t, "POST", "/v1/modules/logging/enable", admin, `{"guild_id": "`+g+`"}`)
	if res.StatusCode != 409 {
		t.Fatalf("second enable: %d %s", res.StatusCode, body)
	}
}

func TestPartialSettingsUpdates(t *testing.T) {
	w := newWorld(t)
	g := guild.String()
	admin := "Bearer " + adminToken
	put := func(body string) map[string]any {
		res, b := w.call(t, "PUT", "/v1/settings", admin, body)
		if res.StatusCode != 200 {
			t.Fatalf("PUT %s: %d %s", body, res.StatusCode, b)
		}
		var env struct {
			Data struct{ Settings map[string]any } `json:"data"`
		}
		json.Unmarshal(b, &env)
		return env.Data.Settings
	}
	put(`{"guild_id": "` + g + `", "language": "fr", "gmt": "Europe/Amsterdam", "auto_delete": 60}`)
	got := put(`{"guild_id": ` + g + `, "unit_system": "imperial", "language": null}`)
	if got["language"] != "fr" || got["gmt"] != "Europe/Amsterdam" || got["unit_system"] != "imperial" || got["auto_delete"] != "60" {
		t.Fatalf("partial update lost values: %v", got)
	}
	if got := put(`{"guild_id": "` + g + `", "auto_delete": 0}`); got["auto_delete"] != nil {
		t.Fatalf("auto_delete 0 did not turn it off: %v", got)
	}
	// A read right after a change sees it (settings are cached).
	_, body := w.call(t, "GET", "/v1/settings?guild_id="+g, admin, "")
	if !bytes.Contains(body, []byte(`"unit_system":"imperial"`)) || !bytes.Contains(body, []byte(`"auto_delete":null`)) {
		t.Fatalf("GET after PUT: %s", body)
	}
	res, body := w.call(t, "PUT", "/v1/settings", admin, `{"guild_id": "`+g+`", "gmt": "Mars/Olympus_Mons"}`)
	if res.StatusCode != 400 || !bytes.Contains(body, []byte(`"gmt":"must be one of the supported time zones"`)) {
		t.Fatalf("unknown time zone: %d %s", res.StatusCode, body)
	}
	// Another guild's key may not change this guild.
	res, _ = w.call(t, "PUT", "/v1/settings", "Bearer "+w.key(t, otherGuild), `{"guild_id": "`+g+`", "language": "de"}`)
	if res.StatusCode != 403 {
		t.Fatalf("other guild's key: got %d, want 403", res.StatusCode)
	}
}

// TestSettingsReadFollowsEveryChange: GET /settings answers from encoded
// bodies it remembers; after every kind of change it shows the change.
func TestSettingsReadFollowsEveryChange(t *testing.T) {
	w := newWorld(t)
	g := guild.String()
	admin := "Bearer " + adminToken
	read := func() map[string]any {
		res, body := w.call(t, "GET", "/v1/settings?guild_id="+g, admin, "")
		if res.StatusCode != 200 {
			t.Fatalf("GET: %d %s", res.StatusCode, body)
		}
		return decodeData[struct{ Settings map[string]any }](t, body).Settings
	}
	read() // remembered before the first change
	for _, c := range []struct{ method, path, body, field string }{
		{"PUT", "/v1/settings", `"language": "fr"`, "language"},
		{"PUT", "/v1/settings", `"gmt": "Asia/Tokyo"`, "gmt"},
		{"PUT", "/v1/settings", `"unit_system": "imperial"`, "unit_system"},
		{"PUT", "/v1/settings", `"auto_delete": 60`, "auto_delete"},
		{"PUT", "/v1/settings", `"auto_delete": 120`, "auto_delete"},
		{"PUT", "/v1/settings", `"auto_delete": 0`, "auto_delete"},
		{"POST", "/v1/modules/logging/enable", "", "module_logging"},
		{"POST", "/v1/modules/logging/disable", "", "module_logging"},
	} {
		before := read()[c.field]
		body := `{"guild_id": "` + g + `"}`
		if c.body != "" {
			body = `{"guild_id": "` + g + `", ` + c.body + `}`
		}
		if res, b := w.call(t, c.method, c.path, admin, body); res.StatusCode != 200 {
			t.Fatalf("%s %s %s: %d %s", c.method, c.path, body, res.StatusCode, b)
		}
		if after := read()[c.field]; after == before {
			t.Errorf("%s %s %s: GET still shows %s = %v", c.method, c.path, body, c.field, after)
		}
	}
}
