package validate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

// classify turns what openapi3filter reports into the error vocabulary.
func classify(err error) *apierr.Error {
	var secErr *openapi3filter.SecurityRequirementsError
	if errors.As(err, &secErr) {
		var unexpected error
		for _, e := range secErr.Errors {
			var ae *apierr.Error
			switch {
			case errors.As(e, &ae):
				return ae
			case !errors.Is(e, ErrSchemeNotUsed):
				unexpected = e
			}
		}
		if unexpected != nil {
			return apierr.From(unexpected)
		}
		return apierr.New(apierr.Unauthorized, "credentials are missing or invalid").Because("no_credentials")
	}
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		return &apierr.Error{Code: apierr.Invalid, Message: "invalid request", Cause: err}
	}
	switch {
	case reqErr.Parameter != nil:
		return invalidField(reqErr.Parameter.Name, reqErr)
	case reqErr.RequestBody != nil:
		if strings.HasPrefix(reqErr.Reason, "header Content-Type has unexpected value") {
			return apierr.New(apierr.UnsupportedMedia, "the body must be application/json")
		}
		var se *openapi3.SchemaError
		if errors.As(reqErr.Err, &se) {
			return invalidField(bodyField(se), reqErr)
		}
		if errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired) {
			return invalidField("body", reqErr)
		}
		return &apierr.Error{Code: apierr.Invalid, Message: "the body is not valid JSON", Fields: map[string]string{"body": "must be a JSON object"}, Cause: err}
	}
	return &apierr.Error{Code: apierr.Invalid, Message: "invalid request", Cause: err}
}

func invalidField(field string, err *openapi3filter.RequestError) *apierr.Error {
	msg := err.Reason
	var se *openapi3.SchemaError
	switch {
	case errors.As(err.Err, &se):
		msg = describe(se)
	case errors.Is(err.Err, openapi3filter.ErrInvalidRequired):
		msg = "is required"
	case msg == "" && err.Err != nil:
		msg = "is not valid"
	}
	return &apierr.Error{
		Code:    apierr.Invalid,
		Message: field + ": " + msg,
		Fields:  map[string]string{field: msg},
		Cause:   err,
	}
}

// bodyField names the body field a schema error is about, as a dotted path.
func bodyField(se *openapi3.SchemaError) string {
	path := se.JSONPointer()
	// kin-openapi puts a missing property in the pointer already; an
	// unknown one it names only in the reason.
	if unknownProperty(se) {
		if name, ok := quoted(se.Reason); ok {
			path = append(slices.Clip(path), name)
		}
	}
	if len(path) == 0 {
		return "body"
	}
	return strings.Join(path, ".")
}

// quoted returns the first double-quoted word of s, which is how
// kin-openapi names a missing or unexpected property.
func quoted(s string) (string, bool) {
	_, rest, ok := strings.Cut(s, `"`)
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, `"`)
	return name, ok
}

// describe says what is wrong with a value in words a client can act on,
// without echoing the value (it may be a secret) or dumping the schema.
func describe(se *openapi3.SchemaError) string {
	s := se.Schema
	switch se.SchemaField {
	case "minLength", "maxLength":
		if s.MaxLength != nil {
			return fmt.Sprintf("must be %d to %d characters", s.MinLength, *s.MaxLength)
		}
		return fmt.Sprintf("must be at least %d characters", s.MinLength)
	case "pattern":
		if msg, ok := s.Extensions["x-pattern-message"].(string); ok {
			return msg
		}
		return "has an invalid format"
	case "required":
		return "is required"
	case "additionalProperties", "properties":
		if unknownProperty(se) {
			return "is not a known field"
		}
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		return boundsMessage(s)
	case "enum":
		return "must be one of the documented values"
	}
	return se.Reason
}

func unknownProperty(se *openapi3.SchemaError) bool {
	return se.SchemaField == "additionalProperties" ||
		se.SchemaField == "properties" && strings.HasSuffix(se.Reason, " is unsupported")
}

func boundsMessage(s *openapi3.Schema) string {
	switch {
	case s.Min != nil && s.Max != nil:
		return fmt.Sprintf("must be between %v and %v", *s.Min, *s.Max)
	case s.Min != nil:
		return fmt.Sprintf("must be at least %v", *s.Min)
	case s.Max != nil:
		return fmt.Sprintf("must be at most %v", *s.Max)
	}
	return "is out of range"
}
