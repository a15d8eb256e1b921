package validate

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Mux is the router a generated server registers its handlers on (its
// BaseRouter option), and the whole family's handler: it validates each
// request and hands it to the handler of the operation the validator
// matched, with the path parameters set for PathValue.
//
// A request is thus routed once, by the document. net/http's ServeMux
// would route it a second time, and differently: it takes a segment that
// is exactly an escaped "/" (POST /apiKeys/new/%2F) for a trailing slash
// and answers a plain-text 404 to a request the document accepts.
type Mux struct {
	v        *Validator
	handlers map[*openapi3.Operation]http.Handler
	problems []error
}

// NewMux builds the validator of one API family and its Mux, on which
// register registers the generated server's handlers. It fails when the
// document and the generated code disagree (see check), so that they fail
// at start rather than on a request.
func NewMux(cfg Config, register func(*Mux)) (*Mux, error) {
	v, err := newValidator(cfg)
	if err != nil {
		return nil, err
	}
	m := &Mux{v: v, handlers: make(map[*openapi3.Operation]http.Handler)}
	register(m)
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// HandleFunc registers the handler of the operation at pattern, "METHOD
// PATH" with PATH the base path followed by the document's path template,
// as oapi-codegen's std-http servers write it (in net/http's pattern
// syntax). A pattern the document does not have makes NewMux fail.
func (m *Mux) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	op := m.operation(pattern)
	switch {
	case op == nil:
		m.problems = append(m.problems, fmt.Errorf("%q is no operation of the document", pattern))
	case m.handlers[op] != nil:
		m.problems = append(m.problems, fmt.Errorf("%q registered twice", pattern))
	default:
		m.handlers[op] = http.HandlerFunc(handler)
	}
}

func (m *Mux) operation(pattern string) *openapi3.Operation {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return nil
	}
	if path, ok = strings.CutPrefix(path, m.v.basePath); !ok {
		return nil
	}
	// ServeMux syntax for "this path exactly", which oapi-codegen writes
	// for "/" so that it matches no other path.
	path = strings.TrimSuffix(path, "{$}")
	item := m.v.cfg.Doc.Paths.Value(path)
	if item == nil {
		return nil
	}
	return item.GetOperation(method)
}

// check reports what the generated server and the document disagree on:
// an operation without a handler, or a handler for no operation.
func (m *Mux) check() error {
	problems := slices.Clone(m.problems)
	for path, item := range m.v.cfg.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			if m.handlers[op] == nil {
				problems = append(problems, fmt.Errorf("%s %s%s (%s) has no handler", method, m.v.basePath, path, op.OperationID))
			}
		}
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("routes: %w", err)
	}
	return nil
}

// ServeHTTP validates the request and serves it with its operation's
// handler; every failure is written in the family's shape.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.v.serve(w, r, m.handlers)
}
