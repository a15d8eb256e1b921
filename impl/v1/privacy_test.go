package v1_test

import (
	"net/http"
	"strings"
	"testing"
)

// Erasing the administrator's data through both services leaves the
// guild working and its audit log whole, and nothing in it names them;
// their grant stays, and so does what other guilds hold.
func TestPrivacyErasureKeepsTheGuildWorking(t *testing.T) {
	w := newWorld(t)
	admin := "Bearer " + adminToken
	res, body := w.call(t, "POST", "/v1/auth/api-key", admin, `{"guild_id": "`+guild.String()+`"}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create a key: %d %s", res.StatusCode, body)
	}
	key := "Bearer " + decodeData[struct {
		APIKey struct {
			APIKey string `json:"api_key"`
		} `json:"api_key"`
	}](t, body).APIKey.APIKey
	if res, body := w.call(t, "PUT", "/v1/settings", admin, `{"guild_id": "`+guild.String()+`", "language": "de"}`); res.StatusCode != http.StatusOK {
		t.Fatalf("change the settings: %d %s", res.StatusCode, body)
	}
	w.key(t, otherGuild) // made by the admin, in the other guild's audit log

	counts := func(path string) map[string]int {
		t.Helper()
		res, body := w.call(t, "GET", path+"?guild_id="+guild.String()+"&privacy_member_id="+adminID(), key, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		return decodeData[map[string]int](t, body)
	}
	if c := counts("/v1/privacy/get-user-entries"); c["id"] != 2 || c["username"] != 0 || c["nickname"] != 0 {
		t.Fatalf("general entries before: %v, want the key and the grant", c)
	}
	if c := counts("/v1/modules/logging/privacy/get-user-entries"); c["id"] != 2 {
		t.Fatalf("logging entries before: %v, want the key's creation and the settings' change", c)
	}

	erase := `{"guild_id": ` + guild.String() + `, "privacy_member_id": ` + adminID() + `}` // integers, as Husqy's clients send them
	for path, erased := range map[string]string{"/v1/privacy/delete-user-entries": "(1)", "/v1/modules/logging/privacy/delete-user-entries": "(2)"} {
		res, body := w.call(t, "DELETE", path, key, erase)
		if res.StatusCode != http.StatusOK || !strings.Contains(decodeData[struct{ Message string }](t, body).Message, erased) {
			t.Fatalf("%s: %d %s; want %s erased", path, res.StatusCode, body, erased)
		}
	}
	if c := counts("/v1/privacy/get-user-entries"); c["id"] != 1 {
		t.Errorf("general entries after: %v, want the grant alone", c)
	}
	if c := counts("/v1/modules/logging/privacy/get-user-entries"); c["id"] != 0 {
		t.Errorf("logging entries after: %v", c)
	}

	// The key works; the admin still administers the guild.
	if res, body := w.call(t, "GET", "/v1/settings?guild_id="+guild.String(), key, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("the key after erasure: %d %s", res.StatusCode, body)
	}
	res, body = w.call(t, "GET", "/v1/auth/api-key?guild_id="+guild.String(), admin, "")
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), adminID()) || !strings.Contains(string(body), `"created_by":""`) {
		t.Fatalf("keys after erasure: %d %s", res.StatusCode, body)
	}
	res, body = w.call(t, "GET", "/v1/modules/logging/entries?guild_id="+guild.String(), key, "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("audit log: %d %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), adminID()) {
		t.Errorf("the audit log still names the member: %s", body)
	}
	page := decodeData[struct {
		Entries []struct{ Actor, Action string }
	}](t, body)
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Action+" by "+e.Actor)
	}
	want := []string{"privacy.erased by An API key", "privacy.erased by An API key", "settings.updated by A deleted user", "api_key.created by A deleted user"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit log after erasure:\n%v\nwant\n%v", got, want)
	}

	// Another guild's data is that guild's.
	other := w.key(t, otherGuild)
	res, body = w.call(t, "GET", "/v1/modules/logging/privacy/get-user-entries?guild_id="+otherGuild.String()+"&privacy_member_id="+adminID(), "Bearer "+other, "")
	if res.StatusCode != http.StatusOK || decodeData[map[string]int](t, body)["id"] != 2 {
		t.Errorf("the other guild's entries: %d %s; want its two keys' creations", res.StatusCode, body)
	}
}

func adminID() string { return admin.String() }
