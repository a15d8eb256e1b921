package v1

import (
	"context"
	"fmt"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// The privacy operations count and erase what a guild's data says of one
// member, for the guild's administrators and its keys: the general pair
// here, the logging module's in logging.go (store/privacy.go says what
// each covers).

func (s *Server) GetPrivacyEntries(ctx context.Context, req api.GetPrivacyEntriesRequestObject) (api.GetPrivacyEntriesResponseObject, error) {
	data, forbidden, err := privacyCount(ctx, s, req.Params.GuildId, req.Params.PrivacyMemberId, s.store.GeneralEntriesOf)
	switch {
	case err != nil:
		return nil, err
	case forbidden != nil:
		return guildForbidden[api.GetPrivacyEntries403ApplicationProblemPlusJSONResponse](*forbidden), nil
	}
	return api.GetPrivacyEntries200JSONResponse{Success: api.SuccessTrue, Data: data}, nil
}

func (s *Server) DeletePrivacyEntries(ctx context.Context, req api.DeletePrivacyEntriesRequestObject) (api.DeletePrivacyEntriesResponseObject, error) {
	data, forbidden, err := privacyErase(ctx, s, req.Body.GuildId, req.Body.PrivacyMemberId, s.store.EraseGeneralEntriesOf, msgGeneralErased)
	switch {
	case err != nil:
		return nil, err
	case forbidden != nil:
		return guildForbidden[api.DeletePrivacyEntries403ApplicationProblemPlusJSONResponse](*forbidden), nil
	}
	return api.DeletePrivacyEntries200JSONResponse{Success: api.SuccessTrue, Data: data}, nil
}

// What each erasure answers, with the number of records it rewrote.
const (
	msgGeneralErased = "The member's data in this guild is erased: the API keys they created (%d) keep working, with no creator. An administrator grant of theirs stays until apikeyd guild-admin remove takes it away."
	msgLoggingErased = `The member's data in this guild's audit log is erased: the entries they made (%d) now read "A deleted user". Messages already posted to Discord cannot be erased from here.`
)

// privacyCount is Husqy's count of what count finds of the member a
// privacy read asks about: by id alone, as apikeyd keeps no name of
// anyone. forbidden is the declared 403 when the caller may not act on
// the guild.
func privacyCount[G, M ~string](ctx context.Context, s *Server, guildID G, memberID M, count func(ctx context.Context, guild, member snowflake.ID) (int64, error)) (api.PrivacyEntries, *api.Problem, error) {
	guild, member, _, forbidden, err := privacyTarget(ctx, s, guildID, memberID)
	if err != nil || forbidden != nil {
		return api.PrivacyEntries{}, forbidden, err
	}
	n, err := count(ctx, guild, member)
	return api.PrivacyEntries{Id: n}, nil, err
}

// privacyErase runs erase for the member a privacy erasure names, as the
// caller, and says what it did in message (a format of the count).
func privacyErase[G, M ~string](ctx context.Context, s *Server, guildID G, memberID M, erase func(ctx context.Context, guild snowflake.ID, actor store.Actor, member snowflake.ID) (int64, error), message string) (api.PrivacyErased, *api.Problem, error) {
	guild, member, actor, forbidden, err := privacyTarget(ctx, s, guildID, memberID)
	if err != nil || forbidden != nil {
		return api.PrivacyErased{}, forbidden, err
	}
	n, err := erase(ctx, guild, actor, member)
	return api.PrivacyErased{Message: fmt.Sprintf(message, n)}, nil, err
}

// privacyTarget reads a privacy operation's guild and member ids and
// authorizes the caller on that guild, whose actor it returns; forbidden
// is the declared 403, err what no typed answer of the operation
// declares.
func privacyTarget[G, M ~string](ctx context.Context, s *Server, guildID G, memberID M) (guild, member snowflake.ID, actor store.Actor, forbidden *api.Problem, err error) {
	if guild, err = readID(guildID); err != nil {
		return 0, 0, store.Actor{}, nil, err
	}
	if member, err = readID(memberID); err != nil {
		return 0, 0, store.Actor{}, nil, err
	}
	p, err := s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		problem := s.declared(ctx, err)
		return 0, 0, store.Actor{}, &problem, nil
	}
	if err != nil {
		return 0, 0, store.Actor{}, nil, err
	}
	return guild, member, p.actor(), nil, nil
}
