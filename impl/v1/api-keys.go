package v1

import (
	"context"
	"errors"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// API keys cannot manage API keys: the three operations of this file
// accept only the discordToken scheme (their security list in the
// document), and authenticate refuses a valid guild key offered to that
// scheme with keysCannotManageKeys, before the handler runs or the body
// is read. A key reaches these handlers only if that check is gone, so
// they never see one.
func keysCannotManageKeys() *apierr.Error {
	// Built directly, not by apierr.New's Sprintf: authenticate makes one
	// for every key sent to an operation that also takes a user.
	return &apierr.Error{Code: apierr.Forbidden, Message: "API keys cannot manage API keys.", Reason: "keys_cannot_manage_keys"}
}

func (s *Server) ListApiKeys(ctx context.Context, req api.ListApiKeysRequestObject) (api.ListApiKeysResponseObject, error) {
	guild, err := readID(req.Params.GuildId)
	if err != nil {
		return nil, err
	}
	_, err = s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return keysForbidden[api.ListApiKeys403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	list, err := s.store.ListGuildKeys(ctx, guild)
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
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	k, err := s.createApiKey(ctx, guild)
	switch apierr.CodeOf(err) {
	case "":
		return api.CreateApiKey200JSONResponse{Success: api.SuccessTrue, Data: api.ApiKeyCreated{ApiKey: apiKey(k)}}, nil
	case apierr.Forbidden:
		return keysChangeForbidden[api.CreateApiKey403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	case apierr.Unprocessable:
		return api.CreateApiKey422ApplicationProblemPlusJSONResponse(s.declared(ctx, err)), nil
	}
	return nil, err
}

func (s *Server) createApiKey(ctx context.Context, guild snowflake.ID) (store.GuildKey, error) {
	p, err := s.authorizeGuild(ctx, guild)
	if err != nil {
		return store.GuildKey{}, err
	}
	k, err := s.store.CreateGuildKey(ctx, guild, p.actor(), s.maxKeys)
	if errors.Is(err, store.ErrGuildKeyLimit) {
		return k, apierr.New(apierr.Unprocessable, "This guild holds its maximum of %d API keys.", s.maxKeys)
	}
	return k, err
}

func (s *Server) DeleteApiKey(ctx context.Context, req api.DeleteApiKeyRequestObject) (api.DeleteApiKeyResponseObject, error) {
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	k, err := s.deleteApiKey(ctx, guild, req.Body.ApiKey)
	switch apierr.CodeOf(err) {
	case "":
		return api.DeleteApiKey200JSONResponse{Success: api.SuccessTrue, Data: api.ApiKeyDeleted{ApiKey: apiKey(k)}}, nil
	case apierr.Forbidden:
		return keysChangeForbidden[api.DeleteApiKey403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	case apierr.NotFound:
		return api.DeleteApiKey404ApplicationProblemPlusJSONResponse(s.declared(ctx, err)), nil
	case apierr.Unprocessable:
		return api.DeleteApiKey422ApplicationProblemPlusJSONResponse(s.declared(ctx, err)), nil
	}
	return nil, err
}

func (s *Server) deleteApiKey(ctx context.Context, guild snowflake.ID, token string) (store.GuildKey, error) {
	// A mistyped key is refused before the database is touched, even to
	// check the caller's rights: a checksum is no secret.
	if kind, err := keys.Parse(token); err != nil || kind != keys.Guild {
		return store.GuildKey{}, apierr.New(apierr.Unprocessable, "This API key is mistyped: its checksum does not match.")
	}
	p, err := s.authorizeGuild(ctx, guild)
	if err != nil {
		return store.GuildKey{}, err
	}
	k, err := s.store.DeleteGuildKey(ctx, guild, p.actor(), token)
	if errors.Is(err, store.ErrKeyNotFound) {
		return k, apierr.New(apierr.NotFound, "This guild has no such API key.")
	}
	return k, err
}

func apiKey(k store.GuildKey) api.ApiKey {
	return api.ApiKey{
		Id:        k.ID,
		GuildId:   k.GuildID.String(),
		ApiKey:    k.Token,
		LastUse:   k.LastUse,
		CreatedAt: k.CreatedAt,
		CreatedBy: k.CreatedBy.String(),
	}
}
