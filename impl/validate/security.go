package validate

import (
	"context"
	"fmt"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// security is an operation's security requirements as the document says
// them (the operation's own, else the document's), resolved when the
// validator is built. openapi3filter evaluates them the same way on every
// request, but first sorts each requirement's scheme names, looks the
// schemes up, and reads and copies the body once a requirement; that was
// about half of its security check's cost.
type security struct {
	requirements openapi3.SecurityRequirements
	// each is requirements, in order: a request is admitted by the first
	// requirement all of whose schemes accept it.
	each [][]schemeUse
}

// schemeUse is one scheme of a requirement, in openapi3filter's order
// (sorted by name).
type schemeUse struct {
	name   string
	scheme *openapi3.SecurityScheme
	scopes []string
}

// securityOf resolves op's requirements against doc's schemes; a scheme
// the document does not declare fails here, not on a request.
func securityOf(doc *openapi3.T, op *openapi3.Operation) (security, error) {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var schemes openapi3.SecuritySchemes
	if doc.Components != nil {
		schemes = doc.Components.SecuritySchemes
	}
	sec := security{requirements: reqs}
	for _, req := range reqs {
		names := make([]string, 0, len(req))
		for name := range req {
			names = append(names, name)
		}
		slices.Sort(names)
		uses := make([]schemeUse, 0, len(names))
		for _, name := range names {
			ref := schemes[name]
			if ref == nil || ref.Value == nil {
				return security{}, fmt.Errorf("security scheme %q is not declared", name)
			}
			uses = append(uses, schemeUse{name: name, scheme: ref.Value, scopes: req[name]})
		}
		sec.each = append(sec.each, uses)
	}
	return sec, nil
}

// check admits a request as openapi3filter.ValidateSecurityRequirements
// does, with the same errors: nil for the first requirement met, else a
// SecurityRequirementsError with each requirement's first failure.
func (sec *security) check(ctx context.Context, authenticate openapi3filter.AuthenticationFunc, input *openapi3filter.RequestValidationInput) error {
	if len(sec.each) == 0 {
		return nil
	}
	// One input for every scheme tried, and the failures kept on the
	// stack until the request turns out refused.
	in := &openapi3filter.AuthenticationInput{RequestValidationInput: input}
	var failed [8]error
	errs := failed[:0]
	for _, uses := range sec.each {
		err := openapi3filter.ErrAuthenticationServiceMissing
		if authenticate != nil {
			err = meets(ctx, authenticate, in, uses)
		}
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return &openapi3filter.SecurityRequirementsError{SecurityRequirements: sec.requirements, Errors: slices.Clone(errs)}
}

// meets is nil when every scheme of a requirement accepts the request,
// else the first scheme's refusal.
func meets(ctx context.Context, authenticate openapi3filter.AuthenticationFunc, in *openapi3filter.AuthenticationInput, uses []schemeUse) error {
	for _, u := range uses {
		in.SecuritySchemeName, in.SecurityScheme, in.Scopes = u.name, u.scheme, u.scopes
		if err := authenticate(ctx, in); err != nil {
			return err
		}
	}
	return nil
}
