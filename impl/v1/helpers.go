package v1

import (
	"context"
	"slices"
	"strings"

	"github.com/apikeyd/apikeyd/gen/tz"
	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// languages are the values of `language`, in the order the document's
// enum lists them (a test holds the two together).
var languages = []api.SupportedLanguage{
	{FullName: "English", Abbreviation: "en"},
	{FullName: "Dutch", Abbreviation: "nl"},
	{FullName: "German", Abbreviation: "de"},
	{FullName: "French", Abbreviation: "fr"},
	{FullName: "Spanish", Abbreviation: "es"},
}

var unitSystems = []string{"metric", "imperial"}

func (s *Server) GetSupportedLanguages(context.Context, api.GetSupportedLanguagesRequestObject) (api.GetSupportedLanguagesResponseObject, error) {
	return api.GetSupportedLanguages200JSONResponse{Success: api.SuccessTrue, Data: api.SupportedLanguages{Languages: languages}}, nil
}

func (s *Server) GetSupportedTimezones(context.Context, api.GetSupportedTimezonesRequestObject) (api.GetSupportedTimezonesResponseObject, error) {
	return api.GetSupportedTimezones200JSONResponse{Success: api.SuccessTrue, Data: api.SupportedTimezones{Timezones: tz.Names()}}, nil
}

func (s *Server) GetSupportedUnitSystems(context.Context, api.GetSupportedUnitSystemsRequestObject) (api.GetSupportedUnitSystemsResponseObject, error) {
	return api.GetSupportedUnitSystems200JSONResponse{Success: api.SuccessTrue, Data: api.SupportedUnitSystems{UnitSystems: unitSystems}}, nil
}

func (s *Server) GetHusqyForGuild(ctx context.Context, _ api.GetHusqyForGuildRequestObject) (api.GetHusqyForGuildResponseObject, error) {
	guilds, err := s.userGuilds(ctx)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return api.GetHusqyForGuild403ApplicationProblemPlusJSONResponse(s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	return api.GetHusqyForGuild200JSONResponse{Success: api.SuccessTrue, Data: api.UserGuilds{Guilds: guilds}}, nil
}

// userGuilds are the caller's Discord guilds, each active where the
// database lists the caller as its administrator.
func (s *Server) userGuilds(ctx context.Context) ([]api.UserGuild, error) {
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	if p.Key != nil {
		return nil, apierr.New(apierr.Forbidden, "An API key is no user and has no Discord guilds.").Because("key_has_no_guilds")
	}
	listed, err := s.guilds.Guilds(ctx, p.token)
	if err != nil {
		return nil, err
	}
	administered, err := s.store.GuildsOfAdmin(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := make([]api.UserGuild, 0, len(listed))
	for _, g := range listed {
		id, err := snowflake.Parse(g.ID)
		if err != nil {
			return nil, apierr.New(apierr.Unavailable, "Discord answered with an invalid guild id.")
		}
		out = append(out, api.UserGuild{Id: id.String(), Name: g.Name, Icon: g.Icon, Active: slices.Contains(administered, id)})
	}
	return out, nil
}

// The guild helpers answer from apikeyd's Discord bot (discord.Bot), for
// the guild's administrators and its keys.

func (s *Server) GetGuildRoles(ctx context.Context, req api.GetGuildRolesRequestObject) (api.GetGuildRolesResponseObject, error) {
	roles, refused, err := askBot(ctx, s, req.Params.GuildId, s.bot.Roles)
	switch {
	case err != nil:
		return nil, err
	case refused.forbidden:
		return guildForbidden[api.GetGuildRoles403ApplicationProblemPlusJSONResponse](refused.problem), nil
	case refused.notFound:
		return botGuildNotFound[api.GetGuildRoles404ApplicationProblemPlusJSONResponse](refused.problem), nil
	}
	out := make([]api.HusqyRole, 0, len(roles))
	for _, r := range roles {
		out = append(out, api.HusqyRole{Id: api.SnowflakeString(r.ID), Name: r.Name})
	}
	return api.GetGuildRoles200JSONResponse{Success: api.SuccessTrue, Data: api.GuildRoles{Roles: out}}, nil
}

func (s *Server) GetGuildChannels(ctx context.Context, req api.GetGuildChannelsRequestObject) (api.GetGuildChannelsResponseObject, error) {
	channels, refused, err := askBot(ctx, s, req.Params.GuildId, s.bot.Channels)
	switch {
	case err != nil:
		return nil, err
	case refused.forbidden:
		return guildForbidden[api.GetGuildChannels403ApplicationProblemPlusJSONResponse](refused.problem), nil
	case refused.notFound:
		return botGuildNotFound[api.GetGuildChannels404ApplicationProblemPlusJSONResponse](refused.problem), nil
	}
	out := make([]api.HusqyChannel, 0, len(channels))
	for _, c := range channels {
		typ := channelType(c.Type)
		if req.Params.Types == nil || slices.Contains(*req.Params.Types, typ) {
			out = append(out, api.HusqyChannel{Id: api.SnowflakeString(c.ID), Name: c.Name, Type: typ})
		}
	}
	return api.GetGuildChannels200JSONResponse{Success: api.SuccessTrue, Data: api.GuildChannels{Channels: out}}, nil
}

func (s *Server) GetGuildUsers(ctx context.Context, req api.GetGuildUsersRequestObject) (api.GetGuildUsersResponseObject, error) {
	members, refused, err := askBot(ctx, s, req.Params.GuildId, s.bot.Members)
	switch {
	case err != nil:
		return nil, err
	case refused.forbidden:
		return guildForbidden[api.GetGuildUsers403ApplicationProblemPlusJSONResponse](refused.problem), nil
	case refused.notFound:
		return botGuildNotFound[api.GetGuildUsers404ApplicationProblemPlusJSONResponse](refused.problem), nil
	}
	out := make([]api.HusqyUser, 0, len(members))
	for _, m := range members {
		out = append(out, api.HusqyUser{Id: api.SnowflakeString(m.UserID), Name: m.DisplayName(), Image: avatarURL(m)})
	}
	return api.GetGuildUsers200JSONResponse{Success: api.SuccessTrue, Data: api.GuildUsers{Users: out}}, nil
}

func (s *Server) GetGuildEmojis(ctx context.Context, req api.GetGuildEmojisRequestObject) (api.GetGuildEmojisResponseObject, error) {
	emojis, refused, err := askBot(ctx, s, req.Params.GuildId, s.bot.Emojis)
	switch {
	case err != nil:
		return nil, err
	case refused.forbidden:
		return guildForbidden[api.GetGuildEmojis403ApplicationProblemPlusJSONResponse](refused.problem), nil
	case refused.notFound:
		return botGuildNotFound[api.GetGuildEmojis404ApplicationProblemPlusJSONResponse](refused.problem), nil
	}
	out := make([]api.HusqyEmoji, 0, len(emojis))
	for _, e := range emojis {
		out = append(out, api.HusqyEmoji{
			Id: api.SnowflakeString(e.ID), Name: e.Name, Animated: e.Animated, ColonsRequired: e.RequireColons,
			Managed: e.Managed, Url: cdnBase + "/emojis/" + e.ID + imageExtension(e.Animated),
		})
	}
	return api.GetGuildEmojis200JSONResponse{Success: api.SuccessTrue, Data: api.GuildEmojis{Emojis: out}}, nil
}

// botRefusal is a declared error a guild helper answers instead of the
// list: the caller may not act on the guild (403), or the bot cannot see
// it (404).
type botRefusal struct {
	forbidden, notFound bool
	problem             api.Problem
}

// askBot is list's answer for the guild id asks about, once the caller is
// found to act for that guild; the errors the helpers declare as 403 and
// 404 come back as a botRefusal, the rest (503 among them) as err.
func askBot[T any](ctx context.Context, s *Server, id api.GuildIdQuery, list func(context.Context, string) ([]T, error)) ([]T, botRefusal, error) {
	guild, err := readID(id)
	if err != nil {
		return nil, botRefusal{}, err
	}
	if _, err := s.authorizeGuild(ctx, guild); err != nil {
		if apierr.CodeOf(err) == apierr.Forbidden {
			return nil, botRefusal{forbidden: true, problem: s.declared(ctx, err)}, nil
		}
		return nil, botRefusal{}, err
	}
	items, err := list(ctx, guild.String())
	if apierr.CodeOf(err) == apierr.NotFound {
		return nil, botRefusal{notFound: true, problem: s.declared(ctx, err)}, nil
	}
	return items, botRefusal{}, err
}

// cdnBase is Discord's CDN, where avatars and emojis are served.
const cdnBase = "https://cdn.discordapp.com"

// avatarURL is the member's avatar on Discord's CDN, nil for the default
// one; an animated avatar's hash starts with "a_".
func avatarURL(m discord.Member) *string {
	if m.Avatar == nil || *m.Avatar == "" {
		return nil
	}
	u := cdnBase + "/avatars/" + m.UserID + "/" + *m.Avatar + imageExtension(strings.HasPrefix(*m.Avatar, "a_"))
	return &u
}

func imageExtension(animated bool) string {
	if animated {
		return ".gif"
	}
	return ".png"
}

// channelTypes name Discord's channel types as the document does.
var channelTypes = map[int]api.ChannelType{
	0: api.Text, 2: api.Voice, 4: api.Category, 5: api.Announcement, 10: api.AnnouncementThread,
	11: api.PublicThread, 12: api.PrivateThread, 13: api.Stage, 14: api.Directory, 15: api.Forum, 16: api.Media,
}

func channelType(discordType int) api.ChannelType {
	if name, ok := channelTypes[discordType]; ok {
		return name
	}
	return api.Unknown
}
