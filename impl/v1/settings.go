package v1

import (
	"context"
	"strconv"

	"github.com/apikeyd/apikeyd/gen/tz"
	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/store"
)

func (s *Server) GetSettings(ctx context.Context, req api.GetSettingsRequestObject) (api.GetSettingsResponseObject, error) {
	guild, err := readID(req.Params.GuildId)
	if err != nil {
		return nil, err
	}
	_, err = s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.GetSettings403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	st, err := s.store.GuildSettings(ctx, guild)
	if err != nil {
		return nil, err
	}
	return s.settingsBodies.answer(st)
}

func (s *Server) UpdateSettings(ctx context.Context, req api.UpdateSettingsRequestObject) (api.UpdateSettingsResponseObject, error) {
	b := req.Body
	guild, err := readID(b.GuildId)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.UpdateSettings403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	// The document bounds the name's shape; the list is too long for it.
	if b.Gmt != nil && !tz.Known(*b.Gmt) {
		return api.UpdateSettings400ApplicationProblemPlusJSONResponse(s.declared(ctx, &apierr.Error{
			Code:    apierr.Invalid,
			Message: "gmt: must be one of the supported time zones",
			Fields:  map[string]string{"gmt": "must be one of the supported time zones"},
		})), nil
	}
	change := store.SettingsChange{GMT: b.Gmt}
	if b.Language != nil {
		change.Language = ptr(string(*b.Language))
	}
	if b.UnitSystem != nil {
		change.UnitSystem = ptr(string(*b.UnitSystem))
	}
	if b.AutoDelete != nil {
		change.AutoDelete = ptr(int64(*b.AutoDelete))
	}
	st, err := s.store.UpdateGuildSettings(ctx, guild, p.actor(), change)
	if err != nil {
		return nil, err
	}
	return api.UpdateSettings200JSONResponse{Success: api.SuccessTrue, Data: api.SettingsUpdated{Settings: settingsFields(st)}}, nil
}

func settingsFields(st store.GuildSettings) api.Settings {
	out := api.Settings{
		Id:            st.ID,
		GuildId:       st.GuildID.String(),
		Language:      api.SettingsLanguage(st.Language),
		Gmt:           st.GMT,
		UnitSystem:    api.SettingsUnitSystem(st.UnitSystem),
		ModuleLogging: st.LoggingEnabled,
	}
	if st.AutoDelete != nil {
		out.AutoDelete = ptr(strconv.FormatInt(*st.AutoDelete, 10))
	}
	return out
}

func ptr[T any](v T) *T { return &v }
