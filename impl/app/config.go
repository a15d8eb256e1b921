package app

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/impl/datadir"
	"github.com/apikeyd/apikeyd/impl/store"
)

// Config is what a server is built from: flags, each with an environment
// variable, and the secrets that only come from the environment.
type Config struct {
	Addr    string
	DataDir string
	// DB is a SQLite file path or ":memory:", or a postgres:// or
	// postgresql:// URL; "" means <DataDir>/apikeyd.db.
	DB string
	// NewDatabase allows a new, empty database file where the data dir
	// holds the key files of one that was lost (refuseLostDatabase).
	NewDatabase   bool
	DiscordAPIURL string
	// IdentityTTL is how long a Discord token's user is remembered.
	IdentityTTL time.Duration
	// LogChannel tunes the sender of the logging module's messages (zero
	// values: logchannel's defaults); no flag sets it.
	LogChannel LogChannelTuning
	// MaxKeysPerGuild bounds the /v1 keys of one guild.
	MaxKeysPerGuild int
	LogFormat       string // "text" or "json"
	// NoAccessLog leaves out the line logged for every request; failures
	// are still logged.
	NoAccessLog bool
	// AuthFailureRate and AuthFailureBurst bound failed authentications
	// per client address: Burst at once, then Rate a second; 0 turns it off.
	AuthFailureRate  float64
	AuthFailureBurst int
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client address that failures are counted under.
	TrustedProxies []netip.Prefix
	// SystemKey is installed as the System key on first start.
	SystemKey string
	// MasterKey is the ring of master keys that seal stored keys, as
	// APIKEYD_MASTER_KEY holds it (keys.DecodeMasterKeyRing: base64 of 32
	// bytes each, comma-separated, the current one first); "" means
	// <DataDir>/master.key, generated once.
	MasterKey string

	// The dashboard: on when DiscordClientID is set.
	//
	// PublicURL is where browsers reach apikeyd; "" means http://<Addr>.
	PublicURL           string
	DiscordClientID     string
	DiscordClientSecret string
	DiscordAuthorizeURL string
	// DiscordBotToken is the token of apikeyd's Discord bot, which the
	// guild helpers (roles, channels, members, emojis) ask Discord with;
	// "" leaves them answering 503.
	DiscordBotToken string
	// SessionIdle and SessionAbsolute end a dashboard session that long
	// after its last use, and that long after its login.
	SessionIdle, SessionAbsolute time.Duration

	// Now is the clock of the store, the sessions and the Discord caches;
	// nil means time.Now. Tests move it to expire what expires.
	Now func() time.Time

	// CI mode, for other projects' tests (cimode.go). Seed is a seed file
	// applied at every start (""; none); FakeDiscord answers /v1's calls
	// to Discord from a fake inside the process that knows the seed's
	// static tokens.
	Seed        string
	FakeDiscord bool
}

// DBPath is the database the server opens.
func (c Config) DBPath() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "apikeyd.db")
}

// envFlag is a flag whose default comes from an environment variable; a
// flag given on the command line wins.
type envFlag struct {
	name, env, usage string
	set              func(fs *flag.FlagSet, def string) error
}

func stringFlag(p *string, name, env, def, usage string) envFlag {
	return envFlag{name, env, usage, func(fs *flag.FlagSet, v string) error {
		if v == "" {
			v = def
		}
		fs.StringVar(p, name, v, usage+" (env "+env+")")
		return nil
	}}
}

// boolFlag is a flag given alone (--name) or as --name=false; its
// variable holds true or false, 1 or 0, and is false when unset.
func boolFlag(p *bool, name, env, usage string) envFlag {
	return boolFlagDefault(p, name, env, false, usage)
}

// boolFlagDefault is a boolFlag that is def when unset.
func boolFlagDefault(p *bool, name, env string, def bool, usage string) envFlag {
	return envFlag{name, env, usage, func(fs *flag.FlagSet, v string) error {
		value := def
		if v != "" {
			var err error
			if value, err = strconv.ParseBool(v); err != nil {
				return fmt.Errorf("%s: want true or false, got %q", env, v)
			}
		}
		fs.BoolVar(p, name, value, usage+" (env "+env+")")
		return nil
	}}
}

func bindFlags(fs *flag.FlagSet, getenv func(string) string, flags ...envFlag) error {
	for _, f := range flags {
		if err := f.set(fs, getenv(f.env)); err != nil {
			return err
		}
	}
	return nil
}

// dataFlags say where a server's data is: the flags of serve and of every
// command that works on that data.
func dataFlags(cfg *Config) []envFlag {
	return []envFlag{
		stringFlag(&cfg.DataDir, "data-dir", "APIKEYD_DATA_DIR", "./data", "directory for the database and generated secrets"),
		stringFlag(&cfg.DB, "db", "APIKEYD_DB", "", `SQLite database file, ":memory:", or a postgres:// URL (default <data-dir>/apikeyd.db)`),
		boolFlag(&cfg.NewDatabase, "new-database", "APIKEYD_NEW_DATABASE", "start a new, empty database although the data dir holds master.key or system.key of one that is missing"),
	}
}

// dataCommandFlags is the flag set of a command that works on a server's
// data directly: dataFlags, with the master key from the environment.
func dataCommandFlags(name, usage string, env Env, cfg *Config) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { fmt.Fprint(env.Stderr, usage) }
	if err := bindFlags(fs, env.Getenv, dataFlags(cfg)...); err != nil {
		return nil, err
	}
	cfg.MasterKey = env.Getenv("APIKEYD_MASTER_KEY")
	return fs, nil
}

// parseServeFlags reads the serve subcommand's flags and environment.
func parseServeFlags(args []string, getenv func(string) string, fs *flag.FlagSet) (Config, error) {
	var cfg Config
	var ttl, maxKeys, failRate, failBurst, proxies, secretFile, botTokenFile, idle, absolute string
	var accessLog bool
	if err := bindFlags(fs, getenv, dataFlags(&cfg)...); err != nil {
		return Config{}, err
	}
	if err := bindFlags(fs, getenv,
		stringFlag(&cfg.Addr, "addr", "APIKEYD_ADDR", "127.0.0.1:8080", "address to listen on"),
		stringFlag(&cfg.DiscordAPIURL, "discord-api-url", "APIKEYD_DISCORD_API_URL", "https://discord.com/api/v10", "Discord API base URL"),
		stringFlag(&ttl, "identity-ttl", "APIKEYD_IDENTITY_TTL", "60s", "how long a Discord token's user is cached"),
		stringFlag(&maxKeys, "max-keys-per-guild", "APIKEYD_MAX_KEYS_PER_GUILD", "25", "most /v1 API keys one guild may hold"),
		stringFlag(&cfg.LogFormat, "log-format", "APIKEYD_LOG_FORMAT", "text", "log format: text or json"),
		boolFlagDefault(&accessLog, "access-log", "APIKEYD_ACCESS_LOG", true, "log a line for every request (false: only failures and events)"),
		stringFlag(&failRate, "auth-failure-rate", "APIKEYD_AUTH_FAILURE_RATE", "1", "more such credentials a second one client address may send after its burst (0: no limit)"),
		stringFlag(&failBurst, "auth-failure-burst", "APIKEYD_AUTH_FAILURE_BURST", "30", "credentials one client address may have in flight to Discord or the database, or failed, at once"),
		stringFlag(&proxies, "trusted-proxies", "APIKEYD_TRUSTED_PROXIES", "", "comma-separated IPs or CIDRs of proxies whose X-Forwarded-For names the client"),
		stringFlag(&cfg.PublicURL, "public-url", "APIKEYD_PUBLIC_URL", "", "where browsers reach apikeyd, for the dashboard (default http://<addr>)"),
		stringFlag(&cfg.DiscordClientID, "discord-client-id", "APIKEYD_DISCORD_CLIENT_ID", "", "client id of the Discord application the dashboard logs in with (unset: the dashboard is off)"),
		stringFlag(&secretFile, "discord-client-secret-file", "APIKEYD_DISCORD_CLIENT_SECRET_FILE", "", "file holding that application's client secret (or set APIKEYD_DISCORD_CLIENT_SECRET)"),
		stringFlag(&cfg.DiscordAuthorizeURL, "discord-authorize-url", "APIKEYD_DISCORD_AUTHORIZE_URL", "https://discord.com/oauth2/authorize", "Discord's OAuth2 authorize page"),
		stringFlag(&botTokenFile, "discord-bot-token-file", "APIKEYD_DISCORD_BOT_TOKEN_FILE", "", "file (mode 0600) holding the token of apikeyd's Discord bot (or set APIKEYD_DISCORD_BOT_TOKEN)"),
		stringFlag(&idle, "session-idle", "APIKEYD_SESSION_IDLE", store.DefaultSessionIdle.String(), "a dashboard session ends this long after its last use"),
		stringFlag(&absolute, "session-absolute", "APIKEYD_SESSION_ABSOLUTE", store.DefaultSessionAbsolute.String(), "a dashboard session ends this long after its login"),
	); err != nil {
		return Config{}, err
	}
	if err := bindFlags(fs, getenv, ciFlags(&cfg)...); err != nil {
		return Config{}, err
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.NoAccessLog = !accessLog
	var err error
	if cfg.IdentityTTL, err = time.ParseDuration(ttl); err != nil || cfg.IdentityTTL < 0 {
		return Config{}, fmt.Errorf("--identity-ttl: want a duration such as 60s, got %q", ttl)
	}
	if cfg.MaxKeysPerGuild, err = strconv.Atoi(maxKeys); err != nil || cfg.MaxKeysPerGuild < 1 {
		return Config{}, fmt.Errorf("--max-keys-per-guild: want a positive integer, got %q", maxKeys)
	}
	if cfg.AuthFailureRate, err = strconv.ParseFloat(failRate, 64); err != nil || cfg.AuthFailureRate < 0 {
		return Config{}, fmt.Errorf("--auth-failure-rate: want a non-negative number, got %q", failRate)
	}
	if cfg.AuthFailureBurst, err = strconv.Atoi(failBurst); err != nil || cfg.AuthFailureBurst < 1 {
		return Config{}, fmt.Errorf("--auth-failure-burst: want a positive integer, got %q", failBurst)
	}
	if cfg.TrustedProxies, err = parsePrefixes(proxies); err != nil {
		return Config{}, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return Config{}, errors.New("--log-format: want text or json")
	}
	if cfg.SessionIdle, err = time.ParseDuration(idle); err != nil || cfg.SessionIdle <= 0 {
		return Config{}, fmt.Errorf("--session-idle: want a positive duration such as 168h, got %q", idle)
	}
	if cfg.SessionAbsolute, err = time.ParseDuration(absolute); err != nil || cfg.SessionAbsolute <= 0 {
		return Config{}, fmt.Errorf("--session-absolute: want a positive duration such as 720h, got %q", absolute)
	}
	if cfg.DiscordClientSecret, err = clientSecret(getenv("APIKEYD_DISCORD_CLIENT_SECRET"), secretFile); err != nil {
		return Config{}, err
	}
	if cfg.DiscordBotToken, err = botToken(getenv("APIKEYD_DISCORD_BOT_TOKEN"), botTokenFile); err != nil {
		return Config{}, err
	}
	cfg.SystemKey = getenv("APIKEYD_SYSTEM_KEY")
	cfg.MasterKey = getenv("APIKEYD_MASTER_KEY")
	return cfg, nil
}

// clientSecret is the Discord client secret, from the environment or a
// file: never a flag's value, which any user could read in ps.
func clientSecret(env, file string) (string, error) {
	return secretOf("the Discord client secret", "APIKEYD_DISCORD_CLIENT_SECRET", "--discord-client-secret-file", env, file, os.ReadFile)
}

// maxBotTokenFileBytes bounds what is read of the bot token's file: a
// token is about 70 characters.
const maxBotTokenFileBytes = 4096

// botToken is the bot's token, from the environment or from a file that
// only its owner may read (as the data directory's key files).
func botToken(env, file string) (string, error) {
	return secretOf("the Discord bot token", "APIKEYD_DISCORD_BOT_TOKEN", "--discord-bot-token-file", env, file, func(path string) ([]byte, error) {
		return datadir.ReadPrivate(path, maxBotTokenFileBytes)
	})
}

// secretOf is a secret given either in the environment variable envName
// (env) or in the file the flag names (file, read by read), not both.
func secretOf(what, envName, flag, env, file string, read func(string) ([]byte, error)) (string, error) {
	if file == "" {
		return env, nil
	}
	if env != "" {
		return "", fmt.Errorf("%s is given twice: set %s or %s, not both", what, envName, flag)
	}
	b, err := read(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("%s: %s is empty", flag, file)
	}
	return secret, nil
}

// parsePrefixes reads a comma-separated list of IPs and CIDRs; an IP is a
// prefix of its full length.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("want IP addresses or CIDR prefixes, got %q", item)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// LogChannelTuning is what tests shorten of the logs channel's sender.
type LogChannelTuning struct {
	PollInterval time.Duration
	FirstBackoff time.Duration
	MaxAttempts  int
	MaxAge       time.Duration
}
