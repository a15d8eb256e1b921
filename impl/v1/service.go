package v1

import (
	"context"
	"errors"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
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

// readiness says whether the store can serve (store.Ready), and the
// problem when not.
func (s *Server) readiness(ctx context.Context) (api.Problem, bool) {
	err := s.store.Ready(ctx)
	if err == nil {
		return api.Problem{}, true
	}
	s.log.WarnContext(ctx, "not ready", "err", err)
	msg := "The database does not answer."
	switch {
	case errors.Is(err, store.ErrDatabaseFileGone):
		msg = msgFileGone + "."
	case errors.Is(err, store.ErrMasterKeyRotated):
		msg = msgMasterKeyRotated
	}
	return problem(apierr.New(apierr.Unavailable, "%s", msg)), false
}

func (s *Server) GetLoggingHome(context.Context, api.GetLoggingHomeRequestObject) (api.GetLoggingHomeResponseObject, error) {
	return api.GetLoggingHome200JSONResponse{
		Success: api.SuccessTrue,
		Data:    api.HomeResponse{Message: "apikeyd /v1/modules/logging is serving. Its description is at /openapi/v1.yaml."},
	}, nil
}

func (s *Server) GetLoggingLivez(ctx context.Context, _ api.GetLoggingLivezRequestObject) (api.GetLoggingLivezResponseObject, error) {
	return api.GetLoggingLivez200JSONResponse{Success: api.SuccessTrue, Data: api.LivezResponse{Status: api.LivezResponseStatusOk}}, nil
}

func (s *Server) GetLoggingReadyz(ctx context.Context, _ api.GetLoggingReadyzRequestObject) (api.GetLoggingReadyzResponseObject, error) {
	if p, ready := s.readiness(ctx); !ready {
		return api.GetLoggingReadyz503ApplicationProblemPlusJSONResponse(p), nil
	}
	return api.GetLoggingReadyz200JSONResponse{Success: api.SuccessTrue, Data: api.ReadyzResponse{Status: api.ReadyzResponseStatusOk}}, nil
}
