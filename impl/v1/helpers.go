package v1

import (
	"context"

	"github.com/apikeyd/apikeyd/gen/tz"
	api "github.com/apikeyd/apikeyd/gen/v1"
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
