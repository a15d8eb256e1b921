package v1

import (
	"context"
	"errors"

	api "github.com/apikeyd/apikeyd/gen/v1"
)

func (s *Server) Authorize(ctx context.Context, req api.AuthorizeRequestObject) (api.AuthorizeResponseObject, error) {
	token := req.Body.AccessToken
	st := stateOf(ctx)
	if st == nil {
		return nil, errors.New("authorize: no auth state in the request context")
	}
	p, _, err := s.resolveLimited(ctx, st.addr, "Bearer "+token)
	if err != nil {
		return nil, err
	}
	out := api.Authorization{AccessToken: token, Sub: p.UserID, Target: api.AuthorizationTargetUser}
	if p.Key != nil {
		out.Sub, out.Target = p.Key.GuildID, api.AuthorizationTargetApiKey
	}
	return api.Authorize200JSONResponse{Success: api.SuccessTrue, Data: out}, nil
}

func (s *Server) ValidateUserPermissions(ctx context.Context, req api.ValidateUserPermissionsRequestObject) (api.ValidateUserPermissionsResponseObject, error) {
	if _, err := s.authorizeGuild(ctx, req.Body.GuildId); err != nil {
		return nil, err
	}
	ok, err := s.store.IsGuildAdmin(ctx, req.Body.GuildId, req.Body.Target)
	if err != nil {
		return nil, err
	}
	return api.ValidateUserPermissions200JSONResponse{Success: api.SuccessTrue, Data: api.UserPermissions{HasAccess: ok}}, nil
}
