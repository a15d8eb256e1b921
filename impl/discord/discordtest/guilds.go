package discordtest

import "net/http"

// Guild is a guild as GET /users/@me/guilds describes it to its member: a
// partial guild object.
type Guild struct {
	ID, Name string
	// Icon and Banner are image hashes; nil when the guild has none.
	Icon, Banner *string
	// Owner is whether the user owns the guild.
	Owner bool
	// Permissions are the user's permission bits in the guild, as the
	// decimal string Discord sends ("" sends "0").
	Permissions string
	Features    []string
}

// AddGuilds makes the user with that id a member of guilds, after those
// already added.
func (s *Server) AddGuilds(userID string, guilds ...Guild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guilds[userID] = append(s.guilds[userID], guilds...)
}

// GuildCalls is how many requests reached /users/@me/guilds with "Bearer
// token", whatever they were answered.
func (s *Server) GuildCalls(token string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.guildCalls[token]
}

// serveGuilds answers GET /users/@me/guilds: the user's guilds for a token
// granted "guilds". Discord answers a token without that scope 401, as it
// answers an unknown one.
func (s *Server) serveGuilds(w http.ResponseWriter, _ *http.Request, token string) {
	s.mu.Lock()
	g := s.liveGrantLocked(token)
	var guilds []Guild
	if g != nil {
		guilds = s.guilds[g.userID]
	}
	s.mu.Unlock()
	if g == nil || !g.has("guilds") {
		writeUnauthorized(w)
		return
	}
	list := make([]map[string]any, 0, len(guilds))
	for _, gd := range guilds {
		list = append(list, partialGuild(gd))
	}
	writeJSON(w, http.StatusOK, list)
}

// partialGuild is g in Discord's wire format; without with_counts there
// are no approximate counts.
func partialGuild(g Guild) map[string]any {
	permissions := g.Permissions
	if permissions == "" {
		permissions = "0"
	}
	features := g.Features
	if features == nil {
		features = []string{}
	}
	return map[string]any{
		"id":          g.ID,
		"name":        g.Name,
		"icon":        g.Icon,
		"banner":      g.Banner,
		"owner":       g.Owner,
		"permissions": permissions,
		"features":    features,
	}
}
