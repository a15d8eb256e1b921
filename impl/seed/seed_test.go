package seed_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/seed"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// Fixed keys, as a project's tests hard-code them.
const (
	guildKey      = "akdg_LSBg3h144o09IJmJjpp2vAapuMbxT41DxnIf"
	otherGuildKey = "akdg_bBq53EDXcK2kJOw5NpIgzl7FVqv1rK20co3w"
	userKey       = "akdu_g44ltV5gl2wV6h1f8kgdBIakGwK23u2WUsyy"
)

// badChecksum is guildKey with its last character changed: the prefix
// and shape of a guild key, the checksum of none.
var badChecksum = guildKey[:len(guildKey)-1] + "g"

const validYAML = `guilds:
  - id: "1098765432109876543"
    administrators: ["310987654321098765", 310987654321098766]
    settings: {language: nl, gmt: Europe/Amsterdam, unit_system: imperial, auto_delete: 0}
    keys:
      - ` + guildKey + `
      - ` + otherGuildKey + `
user_keys:
  - token: ` + userKey + `
    user: ci-bot
    note: hard-coded
discord_users:
  - token: ci-admin-token
    id: "310987654321098765"
    username: ci-admin
    guilds:
      - {id: "1098765432109876543", name: CI guild, owner: true, permissions: "8"}
`

const validJSON = `{
  "guilds": [{
    "id": 1098765432109876543,
    "administrators": ["310987654321098765", "310987654321098766"],
    "settings": {"language": "nl", "gmt": "Europe/Amsterdam", "unit_system": "imperial", "auto_delete": 0},
    "keys": ["` + guildKey + `", "` + otherGuildKey + `"]
  }],
  "user_keys": [{"token": "` + userKey + `", "user": "ci-bot", "note": "hard-coded"}],
  "discord_users": [{"token": "ci-admin-token", "id": 310987654321098765, "username": "ci-admin",
    "guilds": [{"id": "1098765432109876543", "name": "CI guild", "owner": true, "permissions": "8"}]}]
}
`

func TestParseReadsYAMLAndJSONAlike(t *testing.T) {
	fromYAML, err := seed.Parse("seed.yaml", []byte(validYAML), 25)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := seed.Parse("seed.json", []byte(validJSON), 25)
	if err != nil {
		t.Fatal(err)
	}
	nl, ams, imperial, off := "nl", "Europe/Amsterdam", "imperial", int64(0)
	guild := fromYAML.Store.Guilds[0]
	want := store.SeedGuild{
		ID: 1098765432109876543, Admins: []snowflake.ID{310987654321098765, 310987654321098766},
		Settings: store.SettingsChange{Language: &nl, GMT: &ams, UnitSystem: &imperial, AutoDelete: &off},
		Keys: []store.SeedKey{
			{Token: guildKey, Where: "seed.yaml:6: guilds[0].keys[0]"},
			{Token: otherGuildKey, Where: "seed.yaml:7: guilds[0].keys[1]"},
		},
		Where: "seed.yaml:2: guilds[0]",
	}
	if !reflect.DeepEqual(guild, want) {
		t.Errorf("guild:\n got %+v\nwant %+v", guild, want)
	}
	if got := fromYAML.Store.UserKeys; len(got) != 1 || got[0] != (store.SeedUserKey{Token: userKey, User: "ci-bot", Note: "hard-coded", Where: "seed.yaml:9: user_keys[0]"}) {
		t.Errorf("user keys: %+v", got)
	}
	wantUsers := []seed.DiscordUser{{Token: "ci-admin-token", ID: 310987654321098765, Username: "ci-admin",
		Guilds: []seed.DiscordGuild{{ID: 1098765432109876543, Name: "CI guild", Owner: true, Permissions: "8"}}}}
	if !reflect.DeepEqual(fromYAML.DiscordUsers, wantUsers) || fromYAML.DiscordUsersWhere != "seed.yaml:12: discord_users" {
		t.Errorf("discord users: %+v at %q", fromYAML.DiscordUsers, fromYAML.DiscordUsersWhere)
	}
	// The same content, but for where each item is.
	for _, s := range []*seed.Seed{fromYAML, fromJSON} {
		s.DiscordUsersWhere = ""
		for i := range s.Store.Guilds {
			s.Store.Guilds[i].Where = ""
			for j := range s.Store.Guilds[i].Keys {
				s.Store.Guilds[i].Keys[j].Where = ""
			}
		}
		for i := range s.Store.UserKeys {
			s.Store.UserKeys[i].Where = ""
		}
	}
	if !reflect.DeepEqual(fromYAML, fromJSON) {
		t.Errorf("YAML and JSON differ:\n%+v\n%+v", fromYAML, fromJSON)
	}
}

func TestParseAcceptsAnEmptyMapping(t *testing.T) {
	s, err := seed.Parse("seed.yaml", []byte("{}\n"), 25)
	if err != nil || len(s.Store.Guilds)+len(s.Store.UserKeys)+len(s.DiscordUsers) != 0 {
		t.Fatalf("got %+v, %v", s, err)
	}
}

// TestParseRefuses: each problem named by file, line and field, and no
// message repeats a key.
func TestParseRefuses(t *testing.T) {
	guild := func(keys ...string) string {
		return "guilds:\n  - id: \"1\"\n    keys:\n      - " + strings.Join(keys, "\n      - ") + "\n"
	}
	tooMany := make([]string, 26)
	for i := range tooMany {
		k, err := keys.Generate(keys.Guild)
		if err != nil {
			t.Fatal(err)
		}
		tooMany[i] = k
	}
	for _, c := range []struct {
		name, file, content, want string
	}{
		{"bad checksum", "seed.yaml", guild(guildKey, badChecksum), "seed.yaml:5: guilds[0].keys[1]: not a guild key (checksum)"},
		{"bad prefix: a user key as a guild key", "seed.yaml", guild(userKey), "seed.yaml:4: guilds[0].keys[0]: not a guild key (prefix: want akdg_)"},
		{"bad prefix: no key at all", "seed.yaml", guild("akdx_123"), "seed.yaml:4: guilds[0].keys[0]: not a guild key (prefix: want akdg_)"},
		{"a guild key too short", "seed.yaml", guild(guildKey[:30]), "seed.yaml:4: guilds[0].keys[0]: not a guild key (length or characters: want akdg_ and 36 base62 characters)"},
		{"a guild key as a user key", "seed.yaml", "user_keys:\n  - {token: " + guildKey + ", user: ci}\n", "seed.yaml:2: user_keys[0].token: not a user key (prefix: want akdu_)"},
		{"a user key's checksum", "seed.yaml", "user_keys:\n  - {token: " + userKey[:40] + "x, user: ci}\n", "seed.yaml:2: user_keys[0].token: not a user key (checksum)"},
		{"unknown field", "seed.yaml", "guilds:\n  - id: \"1\"\n    colour: red\n", "seed.yaml:3: guilds[0].colour: unknown field"},
		{"unknown top-level field", "seed.yaml", "guild:\n  - id: 1\n", "seed.yaml:1: guild: unknown field"},
		{"wrong type", "seed.yaml", "guilds:\n  - id: \"1\"\n    keys: " + guildKey + "\n", "seed.yaml:3: guilds[0].keys: wrong type: want array, got string"},
		{"wrong type of a setting", "seed.yaml", "guilds:\n  - id: \"1\"\n    settings:\n      unit_system: 3\n", "seed.yaml:4: guilds[0].settings.unit_system: wrong type: want string, got number"},
		{"wrong type at the top", "seed.yaml", "- guilds\n", "seed.yaml:1: wrong type: want object, got array"},
		{"missing field", "seed.yaml", "user_keys:\n  - user: ci\n", `seed.yaml:2: user_keys[0]: missing field "token"`},
		{"an id with a leading zero", "seed.yaml", "guilds:\n  - id: 042\n", "seed.yaml:2: guilds[0].id: must be a Discord id: a positive integer below 2^63 without leading zeros"},
		{"an id of 2^63", "seed.json", `{"guilds": [{"id": 9223372036854775808}]}`, "seed.json:1: guilds[0].id: must be a Discord id: a positive integer below 2^63 without leading zeros"},
		{"an unknown time zone", "seed.yaml", "guilds:\n  - id: \"1\"\n    settings: {gmt: Mars/Olympus_Mons}\n", "seed.yaml:3: guilds[0].settings.gmt: must be one of the time zones GET /v1/helpers/get-supported-timezones lists"},
		{"a language apikeyd does not offer", "seed.yaml", "guilds:\n  - id: \"1\"\n    settings: {language: xx}\n", "seed.yaml:3: guilds[0].settings.language: value must be one of 'en', 'nl', 'de', 'fr', 'es'"},
		{"the System user", "seed.yaml", "user_keys:\n  - {token: " + userKey + ", user: SYSTEM}\n", "seed.yaml:2: user_keys[0].user: cannot be System, in any spelling: the System key is APIKEYD_SYSTEM_KEY's"},
		{"a note with a tab", "seed.yaml", "user_keys:\n  - {token: " + userKey + ", user: ci, note: \"a\\tb\"}\n", "seed.yaml:2: user_keys[0].note: must be UTF-8 text without control characters, not blank"},
		{"a Discord token written as our key", "seed.yaml", "discord_users:\n  - {token: " + guildKey + ", id: 1, username: u}\n", "seed.yaml:2: discord_users[0].token: is written as one of apikeyd's own secrets, which /v1 never sends to Discord: choose another token"},
		{"a Discord token with a space", "seed.yaml", "discord_users:\n  - {token: \"a b\", id: 1, username: u}\n", "seed.yaml:2: discord_users[0].token: must be visible ASCII without spaces"},
		{"a key named twice", "seed.yaml", "guilds:\n  - id: \"1\"\n    keys: [" + guildKey + "]\n  - id: \"2\"\n    keys:\n      - " + guildKey + "\n", "seed.yaml:6: guilds[1].keys[0]: the same key as guilds[0].keys[0] (line 3)"},
		{"a guild named twice", "seed.yaml", "guilds:\n  - id: \"1\"\n  - id: 1\n", "seed.yaml:3: guilds[1].id: the same guild as guilds[0].id (line 2)"},
		{"a Discord user named twice", "seed.yaml", "discord_users:\n  - {token: a, id: 1, username: u}\n  - {token: b, id: 1, username: v}\n", "seed.yaml:3: discord_users[1].id: the same user as discord_users[0].id (line 2)"},
		{"a field given twice", "seed.yaml", "guilds: []\nguilds: []\n", "seed.yaml:2: guilds: the field is given twice"},
		{"more keys than a guild may hold", "seed.yaml", guild(tooMany...), "seed.yaml:3: guilds[0].keys: 26 keys, more than a guild may hold (--max-keys-per-guild 25)"},
		{"not YAML", "seed.yaml", "guilds: [\n", "seed.yaml:1: not YAML: did not find expected node content"},
		{"not JSON", "seed.json", "{\"guilds\": [],\n}", "seed.json:2: not JSON: invalid character '}' looking for beginning of object key string"},
		{"two documents", "seed.yaml", "guilds: []\n---\nuser_keys: []\n", "seed.yaml:2: a second document: a seed file is one document"},
		{"empty", "seed.yaml", "", "seed.yaml: the file is empty: a seed file is a mapping of guilds, user_keys and discord_users"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := seed.Parse(c.file, []byte(c.content), 25)
			if err == nil {
				t.Fatalf("accepted:\n%s", c.content)
			}
			if got := err.Error(); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			for _, k := range append([]string{guildKey, userKey, badChecksum}, tooMany...) {
				if strings.Contains(err.Error(), k) {
					t.Errorf("the message repeats a key: %s", err)
				}
			}
		})
	}
}

func TestParseNamesEveryProblemInOrderOfLine(t *testing.T) {
	_, err := seed.Parse("seed.yaml", []byte("user_keys:\n  - {token: "+userKey+", user: ci, colour: red}\nguilds:\n  - id: \"1\"\n    keys: ["+badChecksum+"]\n"), 25)
	want := "seed.yaml:2: user_keys[0].colour: unknown field\nseed.yaml:5: guilds[0].keys[0]: not a guild key (checksum)"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}
