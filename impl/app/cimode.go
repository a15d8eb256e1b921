package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/seed"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// ciFlags are the flags of CI mode: apikeyd started by another project's
// tests, with keys they hard-code and without Discord.
func ciFlags(cfg *Config) []envFlag {
	return []envFlag{
		stringFlag(&cfg.Seed, "seed", "APIKEYD_SEED", "", "seed file (YAML or JSON, schema at /openapi/seed.schema.json) applied at every start: guilds, keys and fake Discord users with fixed values, for tests"),
		boolFlag(&cfg.FakeDiscord, "fake-discord", "APIKEYD_FAKE_DISCORD", "for tests only: answer /v1's Discord calls from a fake inside the process, which knows the seed's discord_users by their static tokens and has a bot of its own in the seed's guilds (needs a loopback --addr)"),
	}
}

// loadCIMode reads the seed file of cfg (nil without one) and refuses a
// CI mode that would be unsafe or would not do what it says: a fake
// Discord reachable from elsewhere, whose static tokens would let anyone
// in, and fake Discord users without the fake to know them.
func loadCIMode(cfg Config) (*seed.Seed, error) {
	if cfg.FakeDiscord && !loopbackAddr(cfg.Addr) {
		return nil, fmt.Errorf("--fake-discord needs a loopback --addr, such as 127.0.0.1:8080 (got %q): its static tokens would let anyone who reaches apikeyd administer the seeded guilds", cfg.Addr)
	}
	if cfg.FakeDiscord && cfg.DiscordBotToken != "" {
		// It would be sent to the fake, which knows only its own.
		return nil, errors.New("--fake-discord has a bot of its own: leave APIKEYD_DISCORD_BOT_TOKEN and --discord-bot-token-file unset")
	}
	if cfg.Seed == "" {
		return nil, nil
	}
	sd, err := seed.Load(cfg.Seed, cfg.MaxKeysPerGuild)
	if err != nil {
		return nil, err
	}
	if len(sd.DiscordUsers) > 0 && !cfg.FakeDiscord {
		return nil, fmt.Errorf("%s: fake Discord users are known only to --fake-discord (APIKEYD_FAKE_DISCORD=true), which is off", sd.DiscordUsersWhere)
	}
	return sd, nil
}

// loopbackAddr says whether addr listens on loopback only: a loopback IP,
// or localhost.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// startCIMode applies the seed and starts the fake Discord with the
// seed's users and its own bot in the seed's guilds, pointing the
// server's Discord API (and the dashboard's authorize page) at it; both
// say so in the log at every start.
func (s *Server) startCIMode(ctx context.Context, sd *seed.Seed) error {
	if sd != nil {
		if s.cfg.DBPath() != ":memory:" {
			s.log.Warn("seeding a database file: the seed's fixed keys, known to whoever has the seed file, are stored in it; seed :memory: unless that is meant",
				"seed", s.cfg.Seed, "db", s.cfg.dbForLog())
		}
		res, err := s.store.ApplySeed(ctx, sd.Store, s.cfg.MaxKeysPerGuild)
		if err != nil {
			return err
		}
		s.log.Info("seed applied", "seed", s.cfg.Seed, "changed", res.Changed(),
			"admins_added", res.AdminsAdded, "settings_changed", res.SettingsChanged,
			"guild_keys_added", res.GuildKeysAdded, "user_keys_added", res.UserKeysAdded, "notes_changed", res.NotesChanged)
	}
	if !s.cfg.FakeDiscord {
		return nil
	}
	s.fakeDiscord = discordtest.Start()
	var users []seed.DiscordUser
	if sd != nil {
		users = sd.DiscordUsers
	}
	for _, u := range users {
		s.fakeDiscord.AddUser(u.Token, u.ID.String(), u.Username)
		for _, g := range u.Guilds {
			s.fakeDiscord.AddGuilds(u.ID.String(), discordtest.Guild{ID: g.ID.String(), Name: g.Name, Owner: g.Owner, Permissions: g.Permissions})
		}
	}
	s.fakeDiscord.AddBot(s.cfg.DiscordBotToken, true)
	for _, g := range fakeBotGuilds(sd) {
		s.fakeDiscord.AddBotGuild(g)
	}
	s.cfg.DiscordAPIURL = s.fakeDiscord.URL()
	if s.cfg.dashboardOn() {
		// The dashboard logs in at the fake too: it knows the configured
		// application, and its authorize page acts for the first user.
		public, err := s.cfg.publicURL()
		if err != nil {
			return err
		}
		s.fakeDiscord.AddApp(s.cfg.DiscordClientID, s.cfg.DiscordClientSecret, redirectURI(public))
		if len(users) > 0 {
			s.fakeDiscord.LoginAs(users[0].ID.String())
		}
		s.cfg.DiscordAuthorizeURL = s.fakeDiscord.AuthorizeURL()
	}
	s.log.Warn("--fake-discord: FOR TESTS ONLY. /v1 asks a fake Discord inside this process, which accepts the seed's static tokens, in place of Discord",
		"fake_discord", s.cfg.DiscordAPIURL, "users", len(users))
	return nil
}

// stopCIMode stops the fake Discord, if one runs. It is safe to call more
// than once.
func (s *Server) stopCIMode() {
	if s.fakeDiscord != nil {
		s.fakeDiscord.Close()
	}
}

// checkListener refuses a fake Discord behind a listener that is not on
// loopback after all, as "localhost" could be made to resolve elsewhere.
func checkListener(cfg Config, ln net.Listener) error {
	if !cfg.FakeDiscord {
		return nil
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		return fmt.Errorf("--fake-discord needs a loopback --addr, and %q listens on %s", cfg.Addr, ln.Addr())
	}
	return nil
}

// fakeBotToken is the bot token of CI mode: the fake Discord's own bot,
// which is in every guild of the seed. It is published (README), as it
// opens nothing but the fake.
const fakeBotToken = "ZmFrZS1kaXNjb3JkLWJvdA.apikeyd.the-fake-discord-bot"

// The fixed roles, channels and emoji of each guild of the fake's bot,
// the same in every guild (the README lists them).
const (
	fakeModeratorRole = "1400000000000000001"
	fakeLogsChannel   = "1400000000000000002"
	fakeGeneral       = "1400000000000000003"
	fakeVoice         = "1400000000000000004"
	fakeCategory      = "1400000000000000005"
	fakeEmoji         = "1400000000000000006"
)

// fakeBotGuilds are the guilds of the fake's bot: each guild the seed
// names (under guilds or a user's guilds), with a small fixed set of
// roles, channels and an emoji, and as members the seed's users who list
// it.
func fakeBotGuilds(sd *seed.Seed) []discordtest.BotGuild {
	if sd == nil {
		return nil
	}
	var order []snowflake.ID
	members := map[snowflake.ID][]discordtest.Member{}
	add := func(id snowflake.ID) {
		if _, seen := members[id]; !seen {
			order = append(order, id)
			members[id] = []discordtest.Member{}
		}
	}
	for _, g := range sd.Store.Guilds {
		add(g.ID)
	}
	for _, u := range sd.DiscordUsers {
		for _, g := range u.Guilds {
			add(g.ID)
			members[g.ID] = append(members[g.ID], discordtest.Member{UserID: u.ID.String(), Username: u.Username})
		}
	}
	guilds := make([]discordtest.BotGuild, 0, len(order))
	for _, id := range order {
		guilds = append(guilds, discordtest.BotGuild{
			ID:    id.String(),
			Roles: []discordtest.Role{{ID: id.String(), Name: "@everyone"}, {ID: fakeModeratorRole, Name: "Moderator", Position: 1}},
			Channels: []discordtest.Channel{
				{ID: fakeCategory, Type: 4, Name: new("Community")},
				{ID: fakeLogsChannel, Type: 0, Name: new("logs"), Position: 1},
				{ID: fakeGeneral, Type: 0, Name: new("general"), Position: 2},
				{ID: fakeVoice, Type: 2, Name: new("Voice"), Position: 3},
			},
			Members: members[id],
			Emojis:  []discordtest.Emoji{{ID: fakeEmoji, Name: "apikeyd", RequireColons: true}},
		})
	}
	return guilds
}
