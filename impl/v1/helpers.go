package v1

import (
	"context"
	"slices"

	"github.com/apikeyd/apikeyd/gen/tz"
	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
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
