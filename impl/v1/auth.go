package v1

import (
	"context"
	"errors"

	"github.com/apikeyd/apikeyd/impl/apierr"

	api "github.com/apikeyd/apikeyd/gen/v1"
)

func (s *Server) Authorize(ctx context.Context, req api.AuthorizeRequestObject) (api.AuthorizeResponseObject, error) {
	token := req.Body.AccessToken
	st := stateOf(ctx)
	if st == nil {
		return nil, errors.New("authorize: no auth state in the request context")
	}
	p, _, err := s.resolveLimited(ctx, st.addr, "Bearer "+token)
	switch apierr.CodeOf(err) {
	case "":
	case apierr.Unauthorized:
		return api.Authorize401ApplicationProblemPlusJSONResponse{
			Body:    s.declared(ctx, err),
			Headers: api.Authorize401ResponseHeaders{WWWAuthenticate: "Bearer"},
		}, nil
	case apierr.Unavailable:
		var wait *int
		if secs, ok := apierr.From(err).RetryAfterSeconds(); ok {
			wait = &secs
		}
		return api.Authorize503ApplicationProblemPlusJSONResponse{
			Body:    s.declared(ctx, err),
			Headers: api.Authorize503ResponseHeaders{RetryAfter: wait},
		}, nil
	default: // 429 is a limit, 500 the unexpected: WriteError's
		return nil, err
	}
	out := api.Authorization{AccessToken: token, Sub: p.UserID.String(), Target: api.AuthorizationTargetUser}
	if p.Key != nil {
		out.Sub, out.Target = p.Key.GuildID.String(), api.AuthorizationTargetApiKey
	}
	return api.Authorize200JSONResponse{Success: api.SuccessTrue, Data: out}, nil
}

func (s *Server) ValidateUserPermissions(ctx context.Context, req api.ValidateUserPermissionsRequestObject) (api.ValidateUserPermissionsResponseObject, error) {
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	target, err := readID(req.Body.Target)
	if err != nil {
		return nil, err
	}
	_, err = s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return api.ValidateUserPermissions403ApplicationProblemPlusJSONResponse(s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.store.IsGuildAdmin(ctx, guild, target)
	if err != nil {
		return nil, err
	}
	return api.ValidateUserPermissions200JSONResponse{Success: api.SuccessTrue, Data: api.UserPermissions{HasAccess: ok}}, nil
}
