package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

func newKey(t *testing.T, k keys.Kind) string {
	t.Helper()
	token, err := keys.Generate(k)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func testSeed(t *testing.T) Seed {
	nl := "nl"
	return Seed{
		Guilds: []SeedGuild{{
			ID: 1098765432109876543, Admins: []snowflake.ID{310987654321098765},
			Settings: SettingsChange{Language: &nl},
			Keys:     []SeedKey{{Token: newKey(t, keys.Guild), Where: "seed.yaml:5: guilds[0].keys[0]"}},
			Where:    "seed.yaml:1: guilds[0]",
		}},
		UserKeys: []SeedUserKey{{Token: newKey(t, keys.User), User: "alice", Note: "ci", Where: "seed.yaml:9: user_keys[0]"}},
	}
}

func TestApplySeedAddsWhatItNamesOnce(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, t.TempDir()+"/s.db")
	seed := testSeed(t)
	guild := seed.Guilds[0].ID

	res, err := st.ApplySeed(ctx, seed, 25)
	if err != nil {
		t.Fatal(err)
	}
	if want := (SeedResult{AdminsAdded: 1, SettingsChanged: 1, GuildKeysAdded: 1, UserKeysAdded: 1}); res != want {
		t.Fatalf("first apply: got %+v, want %+v", res, want)
	}
	again, err := st.ApplySeed(ctx, seed, 25)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() {
		t.Fatalf("second apply changed %+v", again)
	}

	ref, err := st.GuildKeyByToken(ctx, seed.Guilds[0].Keys[0].Token)
	if err != nil || ref.GuildID != guild {
		t.Fatalf("seeded guild key: %+v, %v", ref, err)
	}
	listed, err := st.ListGuildKeys(ctx, guild)
	if err != nil || len(listed) != 1 || listed[0].Token != seed.Guilds[0].Keys[0].Token || listed[0].CreatedBy != 0 {
		t.Fatalf("listed: %+v, %v", listed, err)
	}
	if owner, err := st.UserKeyOwner(ctx, seed.UserKeys[0].Token); err != nil || owner != "alice" {
		t.Fatalf("seeded user key: %q, %v", owner, err)
	}
	if ok, err := st.IsGuildAdmin(ctx, guild, 310987654321098765); err != nil || !ok {
		t.Fatalf("seeded admin: %v, %v", ok, err)
	}
	if got, err := st.GuildSettings(ctx, guild); err != nil || got.Language != "nl" || got.UnitSystem != "metric" {
		t.Fatalf("seeded settings: %+v, %v", got, err)
	}
	if entries, err := st.AuditEntries(ctx, guild, 0, 10); err != nil || len(entries) != 0 {
		t.Fatalf("audit entries: %+v, %v", entries, err)
	}
}

func TestApplySeedUpdatesAndKeepsTheRest(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, t.TempDir()+"/s.db")
	seed := testSeed(t)
	guild := seed.Guilds[0].ID
	if _, err := st.ApplySeed(ctx, seed, 25); err != nil {
		t.Fatal(err)
	}
	made, err := st.CreateGuildKey(ctx, guild, Actor{UserID: 2}, 25)
	if err != nil {
		t.Fatal(err)
	}

	de := "de"
	seed.Guilds[0].Settings = SettingsChange{Language: &de}
	seed.Guilds[0].Admins = []snowflake.ID{42}
	seed.Guilds[0].Keys = nil
	seed.UserKeys[0].Note = "renamed"
	res, err := st.ApplySeed(ctx, seed, 25)
	if err != nil {
		t.Fatal(err)
	}
	if want := (SeedResult{AdminsAdded: 1, SettingsChanged: 1, NotesChanged: 1}); res != want {
		t.Fatalf("got %+v, want %+v", res, want)
	}
	listed, err := st.ListGuildKeys(ctx, guild)
	if err != nil || len(listed) != 2 || listed[1].Token != made.Token {
		t.Fatalf("keys kept: %+v, %v", listed, err)
	}
	admins, err := st.ListGuildAdmins(ctx, guild)
	if err != nil || len(admins) != 2 {
		t.Fatalf("admins kept: %+v, %v", admins, err)
	}
	if got, _ := st.GuildSettings(ctx, guild); got.Language != "de" {
		t.Fatalf("settings: %+v", got)
	}
	if keys, _ := st.ListUserKeys(ctx, "alice"); len(keys) != 1 || keys[0].Note != "renamed" {
		t.Fatalf("user keys: %+v", keys)
	}
}

func TestApplySeedRefusesToMoveKeysAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	for name, move := range map[string]func(*Seed){
		"guild key of another guild": func(s *Seed) { s.Guilds[0].ID = 7 },
		"user key of another user":   func(s *Seed) { s.UserKeys[0].User = "bob" },
	} {
		t.Run(name, func(t *testing.T) {
			st := openReal(t, t.TempDir()+"/s.db")
			seed := testSeed(t)
			if _, err := st.ApplySeed(ctx, seed, 25); err != nil {
				t.Fatal(err)
			}
			move(&seed)
			extra := newKey(t, keys.User)
			seed.UserKeys = append([]SeedUserKey{{Token: extra, User: "carol", Where: "seed.yaml:2: user_keys[0]"}}, seed.UserKeys...)
			_, err := st.ApplySeed(ctx, seed, 25)
			if !errors.Is(err, ErrSeedConflict) {
				t.Fatalf("got %v, want ErrSeedConflict", err)
			}
			if _, err := st.UserKeyOwner(ctx, extra); !errors.Is(err, ErrKeyNotFound) {
				t.Fatalf("a refused seed wrote part of itself: %v", err)
			}
		})
	}
}

func TestApplySeedKeepsTheGuildKeyLimit(t *testing.T) {
	ctx := context.Background()
	st := openReal(t, t.TempDir()+"/s.db")
	seed := testSeed(t)
	if _, err := st.CreateGuildKey(ctx, seed.Guilds[0].ID, Actor{UserID: 2}, 1); err != nil {
		t.Fatal(err)
	}
	_, err := st.ApplySeed(ctx, seed, 1)
	if !errors.Is(err, ErrGuildKeyLimit) {
		t.Fatalf("got %v, want ErrGuildKeyLimit", err)
	}
	if want := seed.Guilds[0].Keys[0].Where; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v does not name %q", err, want)
	}
}
