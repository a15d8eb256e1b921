package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
)

const testBotToken = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GbOtTk.a-bot-token-for-tests"

// botTokenFile writes the bot token to a file of that mode.
func botTokenFile(t *testing.T, mode os.FileMode, text string) string {
	path := filepath.Join(t.TempDir(), "bot-token")
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// A bot token that cannot be used stops apikeyd at start, saying why and
// never showing the token.
func TestServeRefusesABadBotToken(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		says string
	}{
		{"given twice", map[string]string{"APIKEYD_DISCORD_BOT_TOKEN": testBotToken},
			[]string{"--discord-bot-token-file", botTokenFile(t, 0o600, testBotToken)}, "given twice"},
		{"a file other users may read", nil,
			[]string{"--discord-bot-token-file", botTokenFile(t, 0o644, testBotToken)}, "open to other users"},
		{"an empty file", nil, []string{"--discord-bot-token-file", botTokenFile(t, 0o600, "\n")}, "is empty"},
		{"a file that is not there", nil, []string{"--discord-bot-token-file", "/nonexistent/bot-token"}, "--discord-bot-token-file"},
		{"a token with a space", map[string]string{"APIKEYD_DISCORD_BOT_TOKEN": testBotToken + " x"}, nil, "malformed Discord bot token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"APIKEYD_DATA_DIR": t.TempDir(), "APIKEYD_MASTER_KEY": apptest.Config(t).MasterKey}
			for k, v := range c.env {
				env[k] = v
			}
			code, stdout, stderr := apptest.Main(t, env, append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)...)
			if code != 1 || !strings.Contains(stderr, c.says) {
				t.Errorf("exit %d, stderr %q; want 1 saying %q", code, stderr, c.says)
			}
			if strings.Contains(stdout+stderr, "a-bot-token-for-tests") {
				t.Errorf("the output shows the token: %s%s", stdout, stderr)
			}
		})
	}
}

// `apikeyd serve --discord-bot-token-file` calls Discord as the bot with
// the file's token, and so does APIKEYD_DISCORD_BOT_TOKEN.
func TestServeTakesTheBotToken(t *testing.T) {
	const guild, admin, token = "1098765432109876543", "310987654321098765", "an-admin-token"
	for _, c := range []struct {
		name string
		env  map[string]string
		args func(t *testing.T) []string
	}{
		{"from a file", nil, func(t *testing.T) []string {
			return []string{"--discord-bot-token-file", botTokenFile(t, 0o600, testBotToken+"\n")}
		}},
		{"from the environment", map[string]string{"APIKEYD_DISCORD_BOT_TOKEN": testBotToken}, func(*testing.T) []string { return nil }},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := discordtest.NewServer(t)
			fake.AddUser(token, admin, "admin")
			fake.AddBot(testBotToken, true)
			fake.AddBotGuild(discordtest.BotGuild{ID: guild, Roles: []discordtest.Role{{ID: guild, Name: "@everyone"}}})
			dataDir := t.TempDir()
			env := map[string]string{"APIKEYD_DATA_DIR": dataDir, "APIKEYD_MASTER_KEY": apptest.Config(t).MasterKey, "APIKEYD_SYSTEM_KEY": apptest.SystemKey}
			for k, v := range c.env {
				env[k] = v
			}
			if code, _, stderr := apptest.Main(t, env, "guild-admin", "add", "--guild", guild, "--user", admin); code != 0 {
				t.Fatalf("guild-admin add: %d %s", code, stderr)
			}
			url, log := serveCIMode(t, append([]string{"--addr", "127.0.0.1:0", "--discord-api-url", fake.URL()}, c.args(t)...), env)
			req, _ := http.NewRequest("GET", url+"/v1/helpers/get-guild-roles?guild_id="+guild, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, body := apptest.Send(t, req)
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "@everyone") {
				t.Fatalf("got %d: %s", res.StatusCode, body)
			}
			if strings.Contains(log.String(), "a-bot-token-for-tests") {
				t.Fatalf("the log shows the token: %s", log.String())
			}
		})
	}
}
