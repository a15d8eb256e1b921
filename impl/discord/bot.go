package discord

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

const (
	// DefaultGuildCacheTTL is how long a guild's roles, channels, members
	// or emojis are served without asking Discord again: long enough that
	// a dashboard filling its pickers asks once, short enough that a role
	// or channel just made shows up soon.
	DefaultGuildCacheTTL = 30 * time.Second
	// DefaultMaxMembers is how many members a guild's member list holds
	// at most: the first ones by user id.
	DefaultMaxMembers = 5000
	// maxMembersPage is the most members Discord lists in one page.
	maxMembersPage = 1000
	// maxGuildListBytes caps one answer of Discord's about a guild: a page
	// of 1000 members is about 500 KiB; a guild has at most 500 channels,
	// 250 roles and a few hundred emojis.
	maxGuildListBytes = 2 << 20
	// maxCachedGuilds bounds each of the Bot's caches.
	maxCachedGuilds = 10000
)

// Reasons of the Bot's errors, for callers that tell them apart.
const (
	ReasonNoBotToken       = "no_bot_token"
	ReasonBotTokenRefused  = "bot_token_refused"
	ReasonBotNotInGuild    = "bot_not_in_guild"
	ReasonUnknownGuild     = "unknown_guild"
	ReasonNoMembersIntent  = "no_members_intent"
	msgNoBotToken          = "No Discord bot token is configured: set APIKEYD_DISCORD_BOT_TOKEN or --discord-bot-token-file and restart apikeyd"
	msgBotTokenRefused     = "Discord refused apikeyd's bot token: configure a valid one (APIKEYD_DISCORD_BOT_TOKEN or --discord-bot-token-file) and restart apikeyd"
	msgBotNotInGuild       = "apikeyd's bot is not in this guild: invite it to the server"
	msgUnknownGuild        = "Discord knows no guild with this id"
	msgNoMembersIntent     = "apikeyd's bot lacks the Server Members privileged intent, which listing members needs: turn it on in Discord's Developer Portal"
	logBotTokenRefused     = "Discord refused the bot token (401): the bot stops calling Discord until apikeyd is restarted with a valid APIKEYD_DISCORD_BOT_TOKEN or --discord-bot-token-file"
	botTokenDescription    = "Discord bot token"
	botAuthorizationPrefix = "Bot "
)

// CheckBotToken refuses a bot token that cannot be valid (empty, too long,
// or holding spaces or control characters), without naming it.
func CheckBotToken(token string) error { return checkValue(token, botTokenDescription) }

// BotConfig configures a Bot. Zero values select the defaults.
type BotConfig struct {
	// BaseURL is Discord's API root, as Config.BaseURL.
	BaseURL string
	// Token is the bot's token; "" makes every call fail with
	// ReasonNoBotToken.
	Token string
	// HTTPClient sends the requests, as Config.HTTPClient.
	HTTPClient *http.Client
	// Limiter is the process's one Limiter (nil: one of the Bot's own).
	Limiter *Limiter
	// CacheTTL is how long a guild's lists are cached (0: 30 s).
	CacheTTL time.Duration
	// MaxMembers bounds a guild's member list (0: 5000).
	MaxMembers int
	// MembersPage is how many members are asked for in one request (0:
	// 1000, Discord's most).
	MembersPage int
	// Log receives the one line saying the token was refused (nil: none).
	Log *slog.Logger
	// Now is the clock of the caches (nil: time.Now).
	Now func() time.Time
}

// Bot calls Discord's bot API as apikeyd's own bot
// ("Authorization: Bot <token>"), through the same Limiter as every other
// call to Discord, so that the bot and the users' tokens share what
// Discord has said of its limits and of the address's invalid requests.
// It lists a guild's roles, channels, members and emojis, each cached
// briefly per guild; its errors are *apierr.Error saying what is wrong in
// apikeyd's words, never Discord's answer passed through.
//
// Once Discord answers 401 for the token, the Bot stops using it: a reset
// or deleted token stays refused, and every call made with it would count
// towards the address's invalid-request ban. That is logged once; from
// then on every call fails at once until apikeyd is restarted with a good
// token. The token never appears in an error, a log line or a metric.
//
// It is safe for concurrent use; create one per process.
type Bot struct {
	base        string
	token       string
	http        *http.Client
	ctxTimeout  time.Duration
	maxMembers  int
	membersPage int
	log         *slog.Logger

	refused     atomic.Bool
	refusalOnce sync.Once

	roles    *tokenCache[[]Role]
	channels *tokenCache[[]Channel]
	members  *tokenCache[[]Member]
	emojis   *tokenCache[[]Emoji]
}

// Role is a guild role, as Discord describes it.
type Role struct {
	ID, Name string
	// Position orders the roles: the highest is listed first, @everyone
	// (position 0) last.
	Position int
}

// Channel is a guild channel.
type Channel struct {
	ID string
	// Type is Discord's channel type number (0 text, 2 voice, ...).
	Type int
	// Name is nil for a channel Discord gives none.
	Name     *string
	Position int
}

// Member is a guild member.
type Member struct {
	UserID, Username string
	// GlobalName is the user's display name, Nick their nickname in the
	// guild; nil when unset.
	GlobalName, Nick *string
	// Avatar is the hash of the user's avatar; nil when they have none.
	Avatar *string
}

// DisplayName is what Discord shows for the member in the guild: their
// nickname there, else their display name, else their username.
func (m Member) DisplayName() string {
	for _, name := range []*string{m.Nick, m.GlobalName} {
		if name != nil && *name != "" {
			return *name
		}
	}
	return m.Username
}

// Emoji is a custom emoji of a guild.
type Emoji struct {
	ID, Name                         string
	Animated, RequireColons, Managed bool
}

// NewBot returns a Bot for cfg, filling in defaults.
func NewBot(cfg BotConfig) *Bot {
	b := &Bot{
		base:        strings.TrimRight(cfg.BaseURL, "/"),
		token:       cfg.Token,
		maxMembers:  cmp.Or(cfg.MaxMembers, DefaultMaxMembers),
		membersPage: min(cmp.Or(cfg.MembersPage, maxMembersPage), maxMembersPage),
		log:         cfg.Log,
	}
	b.http, b.ctxTimeout = limitedClient(cfg.HTTPClient, cfg.Limiter, cfg.Now)
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	ttl, now := cmp.Or(cfg.CacheTTL, DefaultGuildCacheTTL), cfg.Now
	if now == nil {
		now = time.Now
	}
	b.roles = newTokenCache[[]Role](ttl, maxCachedGuilds, now)
	b.channels = newTokenCache[[]Channel](ttl, maxCachedGuilds, now)
	b.members = newTokenCache[[]Member](ttl, maxCachedGuilds, now)
	b.emojis = newTokenCache[[]Emoji](ttl, maxCachedGuilds, now)
	return b
}

// Roles are the guild's roles, highest first.
func (b *Bot) Roles(ctx context.Context, guildID string) ([]Role, error) {
	return cachedList(ctx, b, b.roles, "roles", guildID, func(ctx context.Context) ([]Role, error) {
		var list []struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Position int    `json:"position"`
		}
		if err := b.getJSON(ctx, guildPath(guildID, "roles"), &list); err != nil {
			return nil, err
		}
		roles := make([]Role, 0, len(list))
		for _, r := range list {
			if !isSnowflake(r.ID) {
				return nil, notAList("roles")
			}
			roles = append(roles, Role{ID: r.ID, Name: r.Name, Position: r.Position})
		}
		slices.SortStableFunc(roles, func(x, y Role) int { return cmp.Compare(y.Position, x.Position) })
		return roles, nil
	})
}

// Channels are the guild's channels (threads excepted, which Discord lists
// elsewhere), in the order of their positions.
func (b *Bot) Channels(ctx context.Context, guildID string) ([]Channel, error) {
	return cachedList(ctx, b, b.channels, "channels", guildID, func(ctx context.Context) ([]Channel, error) {
		var list []struct {
			ID       string  `json:"id"`
			Type     int     `json:"type"`
			Name     *string `json:"name"`
			Position int     `json:"position"`
		}
		if err := b.getJSON(ctx, guildPath(guildID, "channels"), &list); err != nil {
			return nil, err
		}
		channels := make([]Channel, 0, len(list))
		for _, c := range list {
			if !isSnowflake(c.ID) {
				return nil, notAList("channels")
			}
			channels = append(channels, Channel{ID: c.ID, Type: c.Type, Name: c.Name, Position: c.Position})
		}
		slices.SortStableFunc(channels, func(x, y Channel) int { return cmp.Compare(x.Position, y.Position) })
		return channels, nil
	})
}

// Members are the guild's members by user id, the first MaxMembers of
// them, asked for a page at a time.
func (b *Bot) Members(ctx context.Context, guildID string) ([]Member, error) {
	return cachedList(ctx, b, b.members, "members", guildID, func(ctx context.Context) ([]Member, error) {
		var members []Member
		after := ""
		for len(members) < b.maxMembers {
			limit := min(b.membersPage, b.maxMembers-len(members))
			page, err := b.membersPageAfter(ctx, guildID, after, limit)
			if err != nil {
				return nil, err
			}
			members = append(members, page...)
			if len(page) < limit {
				break
			}
			after = page[len(page)-1].UserID
		}
		return members, nil
	})
}

// membersPageAfter is one page of members: up to limit, after the user id
// after ("" for the first page).
func (b *Bot) membersPageAfter(ctx context.Context, guildID, after string, limit int) ([]Member, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	var list []struct {
		User struct {
			ID         string  `json:"id"`
			Username   string  `json:"username"`
			GlobalName *string `json:"global_name"`
			Avatar     *string `json:"avatar"`
		} `json:"user"`
		Nick *string `json:"nick"`
	}
	err := b.getJSON(ctx, guildPath(guildID, "members")+"?"+q.Encode(), &list)
	if err != nil && apierr.From(err).Reason == ReasonBotNotInGuild {
		return nil, b.whyMembersRefused(ctx, guildID, err)
	}
	if err != nil {
		return nil, err
	}
	page := make([]Member, 0, len(list))
	for _, m := range list {
		if !isSnowflake(m.User.ID) {
			return nil, notAList("members")
		}
		page = append(page, Member{UserID: m.User.ID, Username: m.User.Username, GlobalName: m.User.GlobalName, Nick: m.Nick, Avatar: m.User.Avatar})
	}
	return page, nil
}

// whyMembersRefused tells apart the two reasons Discord refuses members
// with Missing Access: a bot that can list the guild's roles is in it, and
// then lacks the privileged intent; otherwise refusal stands.
func (b *Bot) whyMembersRefused(ctx context.Context, guildID string, refusal error) error {
	if _, err := b.Roles(ctx, guildID); err != nil {
		return refusal
	}
	return &apierr.Error{Code: apierr.Unavailable, Message: msgNoMembersIntent, Reason: ReasonNoMembersIntent}
}

// Emojis are the guild's custom emojis.
func (b *Bot) Emojis(ctx context.Context, guildID string) ([]Emoji, error) {
	return cachedList(ctx, b, b.emojis, "emojis", guildID, func(ctx context.Context) ([]Emoji, error) {
		var list []struct {
			ID            string  `json:"id"`
			Name          *string `json:"name"`
			Animated      bool    `json:"animated"`
			RequireColons bool    `json:"require_colons"`
			Managed       bool    `json:"managed"`
		}
		if err := b.getJSON(ctx, guildPath(guildID, "emojis"), &list); err != nil {
			return nil, err
		}
		emojis := make([]Emoji, 0, len(list))
		for _, e := range list {
			if !isSnowflake(e.ID) {
				return nil, notAList("emojis")
			}
			emojis = append(emojis, Emoji{ID: e.ID, Name: deref(e.Name), Animated: e.Animated, RequireColons: e.RequireColons, Managed: e.Managed})
		}
		return emojis, nil
	})
}

// cachedList answers what of guildID cache holds, else fetch's answer,
// asked once for every caller waiting meanwhile. The guild id is checked
// first, so that nothing else reaches a path.
func cachedList[V any](ctx context.Context, b *Bot, cache *tokenCache[[]V], route, guildID string, fetch func(context.Context) ([]V, error)) ([]V, error) {
	if !isSnowflake(guildID) {
		return nil, apierr.New(apierr.Invalid, "guild_id: must be a Discord id in digits")
	}
	if err := b.usable(); err != nil {
		return nil, err
	}
	list, err := cache.get(ctx, keyOf(route+"/"+guildID), fetch)
	return slices.Clone(list), err
}

// usable says why the Bot cannot call Discord, if it cannot.
func (b *Bot) usable() error {
	if b.token == "" {
		return &apierr.Error{Code: apierr.Unavailable, Message: msgNoBotToken, Reason: ReasonNoBotToken}
	}
	if b.refused.Load() {
		return &apierr.Error{Code: apierr.Unavailable, Message: msgBotTokenRefused, Reason: ReasonBotTokenRefused}
	}
	return nil
}

func guildPath(guildID, route string) string { return "/guilds/" + guildID + "/" + route }

// getJSON asks Discord for path as the bot and decodes a 200 answer into
// v; any other answer is classified by refusal.
func (b *Bot) getJSON(ctx context.Context, path string, v any) error {
	if err := b.usable(); err != nil {
		return err
	}
	resp, body, err := getFrom(ctx, b.http, b.ctxTimeout, b.base, path, botAuthorizationPrefix+b.token, maxGuildListBytes)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return b.refusal(path, resp, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return unavailable("Discord's answer is not what was asked for", fmt.Errorf("GET %s: %w", path, err))
	}
	return nil
}

// refusal classifies an answer of Discord's other than 200.
func (b *Bot) refusal(path string, resp *http.Response, body []byte) error {
	cause := newStatusError(path, resp.StatusCode, body, b.token)
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized:
		b.refused.Store(true)
		b.refusalOnce.Do(func() { b.log.Error(logBotTokenRefused, "err", cause) })
		return &apierr.Error{Code: apierr.Unavailable, Message: msgBotTokenRefused, Reason: ReasonBotTokenRefused, Cause: cause}
	case s == http.StatusForbidden:
		return &apierr.Error{Code: apierr.NotFound, Message: msgBotNotInGuild, Reason: ReasonBotNotInGuild, Cause: cause}
	case s == http.StatusNotFound:
		return &apierr.Error{Code: apierr.NotFound, Message: msgUnknownGuild, Reason: ReasonUnknownGuild, Cause: cause}
	case s == http.StatusTooManyRequests:
		wait, _ := rateLimitOf(resp.Header, body)
		return &apierr.Error{Code: apierr.Unavailable, Message: msgRateLimited, RetryAfter: wait, Cause: cause}
	default:
		return unavailable("Discord could not answer", cause)
	}
}

func notAList(what string) error {
	return unavailable("Discord's answer is not a list of "+what, fmt.Errorf("an id in the %s is not 1-20 digits", what))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
