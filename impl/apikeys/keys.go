package apikeys

import (
	"context"

	api "github.com/apikeyd/apikeyd/gen/apikeys"
	"github.com/apikeyd/apikeyd/impl/store"
)

func (s *Server) CreateKey(ctx context.Context, req api.CreateKeyRequestObject) (api.CreateKeyResponseObject, error) {
	if hasWideFormatCharacter(req.User) {
		return api.CreateKey400JSONResponse{CreateRefusedJSONResponse: api.CreateRefusedJSONResponse(badUserName(msgNotCreated))}, nil
	}
	if isSystemName(req.User) {
		return api.CreateKey403JSONResponse{ForbiddenNameJSONResponse: systemNameRefused()}, nil
	}
	token, err := s.store.CreateUserKey(ctx, req.User, "")
	if err != nil {
		return nil, err
	}
	return api.CreateKey200JSONResponse{Token: token}, nil
}

func (s *Server) CreateKeyWithNote(ctx context.Context, req api.CreateKeyWithNoteRequestObject) (api.CreateKeyWithNoteResponseObject, error) {
	if hasWideFormatCharacter(req.User) {
		return api.CreateKeyWithNote400JSONResponse(badUserName(msgNotCreated)), nil
	}
	if isSystemName(req.User) {
		return api.CreateKeyWithNote403JSONResponse{ForbiddenNameJSONResponse: systemNameRefused()}, nil
	}
	token, err := s.store.CreateUserKey(ctx, req.User, req.Note)
	if err != nil {
		return nil, err
	}
	return api.CreateKeyWithNote200JSONResponse{Token: token}, nil
}

func (s *Server) RemoveUserKeys(ctx context.Context, req api.RemoveUserKeysRequestObject) (api.RemoveUserKeysResponseObject, error) {
	if hasWideFormatCharacter(req.User) {
		return api.RemoveUserKeys400JSONResponse{BadUserJSONResponse: api.BadUserJSONResponse(badUserName(msgInvalid))}, nil
	}
	if isSystemName(req.User) {
		return api.RemoveUserKeys403JSONResponse{ForbiddenNameJSONResponse: systemNameRefused()}, nil
	}
	n, err := s.store.DeleteUserKeys(ctx, req.User)
	if err != nil {
		return nil, err
	}
	return api.RemoveUserKeys200JSONResponse{Deleted: n}, nil
}

func (s *Server) GetUserKeys(ctx context.Context, req api.GetUserKeysRequestObject) (api.GetUserKeysResponseObject, error) {
	if hasWideFormatCharacter(req.User) {
		return api.GetUserKeys400JSONResponse{BadUserJSONResponse: api.BadUserJSONResponse(badUserName(msgInvalid))}, nil
	}
	if isSystemName(req.User) {
		return api.GetUserKeys403JSONResponse{ForbiddenNameJSONResponse: systemNameRefused()}, nil
	}
	keys, err := s.store.ListUserKeys(ctx, req.User)
	if err != nil {
		return nil, err
	}
	return api.GetUserKeys200JSONResponse{Keys: toKeys(keys)}, nil
}

func (s *Server) GetKeys(ctx context.Context, _ api.GetKeysRequestObject) (api.GetKeysResponseObject, error) {
	keys, err := s.store.ListAllUserKeys(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetKeys200JSONResponse{Keys: toKeys(keys)}, nil
}

// badUserName is the 400 of a name with a format character beyond U+FFFF,
// in the words the document's pattern gives the others.
func badUserName(message string) api.Error {
	body := errorBody(400, message)
	catch := "user: " + userNameRule
	body.CatchError = &catch
	return body
}

func systemNameRefused() api.ForbiddenNameJSONResponse {
	return api.ForbiddenNameJSONResponse(errorBody(403, msgSystemName))
}

func toKeys(in []store.UserKey) []api.Key {
	out := make([]api.Key, len(in))
	for i, k := range in {
		out[i] = api.Key{Token: k.Token, User: k.User, Note: k.Note, CreatedAt: k.CreatedAt}
	}
	return out
}
