package v1

import (
	"context"
	"errors"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/store"
)

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
