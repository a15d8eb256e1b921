package v1

import (
	"context"
	"errors"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

func (s *Server) GetHome(context.Context, api.GetHomeRequestObject) (api.GetHomeResponseObject, error) {
	return api.GetHome200JSONResponse{
		Success: api.SuccessTrue,
		Data:    api.HomeResponse{Message: "apikeyd /v1 is serving. Its description is at /openapi/v1.yaml."},
	}, nil
}

func (s *Server) GetLivez(context.Context, api.GetLivezRequestObject) (api.GetLivezResponseObject, error) {
	return api.GetLivez200JSONResponse{Success: api.SuccessTrue, Data: api.LivezResponse{Status: api.LivezResponseStatusOk}}, nil
}

func (s *Server) GetReadyz(ctx context.Context, _ api.GetReadyzRequestObject) (api.GetReadyzResponseObject, error) {
	if p, ready := s.readiness(ctx); !ready {
		return api.GetReadyz503ApplicationProblemPlusJSONResponse(p), nil
	}
	return api.GetReadyz200JSONResponse{Success: api.SuccessTrue, Data: api.ReadyzResponse{Status: api.ReadyzResponseStatusOk}}, nil
}

// readiness says whether the database answers, and the problem when not.
func (s *Server) readiness(ctx context.Context) (api.Problem, bool) {
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err)
		return problem(apierr.New(apierr.Unavailable, "The database does not answer.")), false
	}
	return api.Problem{}, true
}

func (s *Server) ListApiKeys(ctx context.Context, req api.ListApiKeysRequestObject) (api.ListApiKeysResponseObject, error) {
	if _, err := s.authorizeGuild(ctx, req.Params.GuildId); err != nil {
		return nil, err
	}
	list, err := s.store.ListGuildKeys(ctx, req.Params.GuildId)
	if err != nil {
		return nil, err
	}
	out := make([]api.ApiKey, len(list))
	for i, k := range list {
		out[i] = apiKey(k)
	}
	return api.ListApiKeys200JSONResponse{Success: api.SuccessTrue, Data: api.ApiKeysList{ApiKeys: out}}, nil
}

func (s *Server) CreateApiKey(ctx context.Context, req api.CreateApiKeyRequestObject) (api.CreateApiKeyResponseObject, error) {
	p, err := s.authorizeGuild(ctx, req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	k, err := s.store.CreateGuildKey(ctx, req.Body.GuildId, p.actor(), s.maxKeys)
	if e := (*apierr.Error)(nil); errors.As(err, &e) && e.Code == apierr.Unprocessable {
		return api.CreateApiKey422ApplicationProblemPlusJSONResponse(problem(e)), nil
	}
	if err != nil {
		return nil, err
	}
	return api.CreateApiKey200JSONResponse{Success: api.SuccessTrue, Data: api.ApiKeyCreated{ApiKey: apiKey(k)}}, nil
}

func (s *Server) DeleteApiKey(ctx context.Context, req api.DeleteApiKeyRequestObject) (api.DeleteApiKeyResponseObject, error) {
	// A mistyped key is refused before the database is touched, even to
	// check the caller's rights: a checksum is no secret.
	if kind, err := keys.Parse(req.Body.ApiKey); err != nil || kind != keys.Guild {
		return api.DeleteApiKey422ApplicationProblemPlusJSONResponse(problem(
			apierr.New(apierr.Unprocessable, "This API key is mistyped: its checksum does not match."))), nil
	}
	p, err := s.authorizeGuild(ctx, req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	k, err := s.store.DeleteGuildKey(ctx, req.Body.GuildId, p.actor(), req.Body.ApiKey)
	if apierr.CodeOf(err) == apierr.NotFound {
		return api.DeleteApiKey404ApplicationProblemPlusJSONResponse(problem(apierr.From(err))), nil
	}
	if err != nil {
		return nil, err
	}
	return api.DeleteApiKey200JSONResponse{Success: api.SuccessTrue, Data: api.ApiKeyDeleted{ApiKey: apiKey(k)}}, nil
}

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

func apiKey(k store.GuildKey) api.ApiKey {
	return api.ApiKey{
		Id:        k.ID,
		GuildId:   k.GuildID,
		ApiKey:    k.Token,
		LastUse:   k.LastUse,
		CreatedAt: k.CreatedAt,
		CreatedBy: k.CreatedBy,
	}
}
