package discordtest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/apikeyd/apikeyd/impl/discord"
)

// The bot's side of the fake: GET /guilds/{id}/roles, /channels, /members
// (paged with limit and after, as Discord pages it) and /emojis, answered
// to "Authorization: Bot <token>" for a token AddBot registered, in
// Discord's wire format, with Discord's errors: 401 for a token it does not
// know, 404 Unknown Guild (code 10004) for a guild it does not know, 403
// Missing Access (code 50001) for a guild the bot is not in, and for the
// members of one when the bot lacks the privileged Server Members intent.

// BotGuild is a guild the bot is in, with what the bot may list of it.
type BotGuild struct {
	ID       string
	Roles    []Role
	Channels []Channel
	Members  []Member
	Emojis   []Emoji
}

// Role, Channel, Member and Emoji are what the bot is told of a guild:
// the fake answers them in Discord's wire format.
type (
	Role    = discord.Role
	Channel = discord.Channel
	Member  = discord.Member
	Emoji   = discord.Emoji
)

// Discord's JSON error codes the bot routes answer with.
const (
	CodeUnknownGuild  = 10004
	CodeMissingAccess = 50001
)

// maxMembersPage is the most members Discord lists in one page.
const maxMembersPage = 1000

// bots is the fake's bot state; Server.mu guards it.
type bots struct {
	// tokens maps a bot token Discord knows to whether that bot has the
	// privileged Server Members intent.
	tokens    map[string]bool
	botGuilds map[string]*BotGuild
	// foreign are guilds Discord knows that the bot is not in.
	foreign map[string]bool
	// calls counts requests per guild route ("roles", "channels",
	// "members", "emojis"), whatever they were answered.
	calls map[string]int
}

func newBots() bots {
	return bots{tokens: map[string]bool{}, botGuilds: map[string]*BotGuild{}, foreign: map[string]bool{}, calls: map[string]int{}}
}

// AddBot makes token a bot token Discord accepts; membersIntent says
// whether that bot has the privileged Server Members intent, which listing
// members needs.
func (s *Server) AddBot(token string, membersIntent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bots.tokens[token] = membersIntent
}

// RemoveBot makes Discord refuse token from now on (401), as it does once a
// bot's token is reset.
func (s *Server) RemoveBot(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bots.tokens, token)
}

// AddBotGuild puts the bot in g (replacing what was known of that guild).
func (s *Server) AddBotGuild(g BotGuild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bots.foreign, g.ID)
	s.bots.botGuilds[g.ID] = &g
}

// RemoveBotGuild takes the bot out of the guild with that id: Discord
// still knows it, and answers 403 Missing Access.
func (s *Server) RemoveBotGuild(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bots.botGuilds, id)
	s.bots.foreign[id] = true
}

// ForgetGuild makes Discord know no guild with that id (404 Unknown Guild).
func (s *Server) ForgetGuild(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bots.botGuilds, id)
	delete(s.bots.foreign, id)
}

// BotCalls is how many requests reached the guild route named ("roles",
// "channels", "members" or "emojis"), for any guild and token.
func (s *Server) BotCalls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bots.calls[route]
}

// guildRoute splits "/guilds/{id}/{route}" into the guild id and the route
// when route is one the fake serves.
func guildRoute(path string) (id, route string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/guilds/")
	if !ok {
		return "", "", false
	}
	id, route, ok = strings.Cut(rest, "/")
	switch route {
	case "roles", "channels", "members", "emojis":
		return id, route, ok && id != ""
	}
	return "", "", false
}

// serveGuildRoute answers a bot's GET /guilds/{id}/{route}.
func (s *Server) serveGuildRoute(w http.ResponseWriter, r *http.Request, _ string) {
	id, route, _ := guildRoute(strings.TrimPrefix(r.URL.Path, APIPrefix))
	token, isBot := strings.CutPrefix(r.Header.Get("Authorization"), "Bot ")
	s.mu.Lock()
	membersIntent, known := s.bots.tokens[token]
	g, foreign := s.bots.botGuilds[id], s.bots.foreign[id]
	var copied BotGuild
	if g != nil {
		copied = *g
	}
	s.mu.Unlock()
	switch {
	case !isBot || !known:
		writeUnauthorized(w)
	case g == nil && foreign:
		writeMissingAccess(w)
	case g == nil:
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Guild", "code": CodeUnknownGuild})
	case route == "roles":
		writeJSON(w, http.StatusOK, mapEach(copied.Roles, func(ro Role) map[string]any { return roleObject(ro, id) }))
	case route == "channels":
		writeJSON(w, http.StatusOK, mapEach(copied.Channels, func(c Channel) map[string]any { return channelObject(c, id) }))
	case route == "emojis":
		writeJSON(w, http.StatusOK, mapEach(copied.Emojis, emojiObject))
	case !membersIntent:
		writeMissingAccess(w)
	default:
		s.serveMembers(w, r, copied.Members)
	}
}

// serveMembers answers one page of members, by user id ascending after
// the query's after, of at most its limit (1 by default, 1000 at most).
func (s *Server) serveMembers(w http.ResponseWriter, r *http.Request, members []Member) {
	q := r.URL.Query()
	limit := 1
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMembersPage {
			writeJSON(w, http.StatusBadRequest, map[string]any{
				"message": "Invalid Form Body", "code": 50035,
				"errors": map[string]any{"limit": map[string]any{"_errors": []map[string]any{{
					"code": "NUMBER_TYPE_MAX", "message": "int value should be less than or equal to 1000.",
				}}}},
			})
			return
		}
		limit = n
	}
	after := q.Get("after")
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, func(a, b Member) int { return compareIDs(a.UserID, b.UserID) })
	page := make([]map[string]any, 0, limit)
	for _, m := range sorted {
		if len(page) == limit {
			break
		}
		if after == "" || compareIDs(m.UserID, after) > 0 {
			page = append(page, memberObject(m))
		}
	}
	writeJSON(w, http.StatusOK, page)
}

// compareIDs orders snowflakes as numbers: a shorter one is smaller.
func compareIDs(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
}

func writeMissingAccess(w http.ResponseWriter) {
	writeJSON(w, http.StatusForbidden, map[string]any{"message": "Missing Access", "code": CodeMissingAccess})
}

func mapEach[T any](items []T, f func(T) map[string]any) []map[string]any {
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}

func roleObject(r Role, guildID string) map[string]any {
	permissions := "0"
	if r.ID == guildID {
		permissions = "1071698660929" // what @everyone may do by default
	}
	return map[string]any{
		"id": r.ID, "name": r.Name, "description": nil, "permissions": permissions,
		"position": r.Position, "color": 0, "colors": map[string]any{"primary_color": 0, "secondary_color": nil, "tertiary_color": nil},
		"hoist": false, "managed": false, "mentionable": false, "icon": nil, "unicode_emoji": nil, "flags": 0,
	}
}

func channelObject(c Channel, guildID string) map[string]any {
	return map[string]any{
		"id": c.ID, "type": c.Type, "guild_id": guildID, "name": c.Name, "position": c.Position,
		"flags": 0, "parent_id": nil, "permission_overwrites": []any{}, "nsfw": false,
	}
}

func memberObject(m Member) map[string]any {
	user := userObject(m.UserID, m.Username)
	user["global_name"] = m.GlobalName
	user["avatar"] = m.Avatar
	for _, private := range []string{"mfa_enabled", "locale", "premium_type", "flags"} {
		delete(user, private) // only /users/@me tells these
	}
	return map[string]any{
		"user": user, "nick": m.Nick, "avatar": nil, "banner": nil, "roles": []string{},
		"joined_at": "2026-01-02T03:04:05.678000+00:00", "premium_since": nil,
		"deaf": false, "mute": false, "flags": 0, "pending": false, "communication_disabled_until": nil,
	}
}

func emojiObject(e Emoji) map[string]any {
	return map[string]any{
		"id": e.ID, "name": e.Name, "roles": []string{}, "require_colons": e.RequireColons,
		"managed": e.Managed, "animated": e.Animated, "available": true,
	}
}
