package openapi_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/openapi"
)

// TestTheValidationDocumentsAreTheDocumentsWithoutExamplesOrProse: what
// the validators are built from is each document with nothing but its
// examples, descriptions and summaries taken out, taken out here by
// kin-openapi's own types rather than by the generator's reading of the
// YAML.
func TestTheValidationDocumentsAreTheDocumentsWithoutExamplesOrProse(t *testing.T) {
	for _, name := range []string{"v1.yaml", "apikeys.yaml"} {
		t.Run(name, func(t *testing.T) {
			full, err := openapi.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			dropExamples(full)
			fast, err := openapi.LoadForValidation(name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(full)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(fast)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("gen/docsgo's %s is not the document without its examples or prose: run go generate\n got %.300s\nwant %.300s", name, got, want)
			}
		})
	}
}

func dropExamples(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	doc.Info.Description = ""
	for _, tag := range doc.Tags {
		tag.Description = ""
	}
	for _, s := range doc.Servers {
		s.Description = ""
	}
	if doc.ExternalDocs != nil {
		doc.ExternalDocs.Description = ""
	}
	c := doc.Components
	c.Examples = nil
	for _, s := range c.SecuritySchemes {
		s.Value.Description = ""
	}
	for _, s := range c.Schemas {
		dropSchemaExamples(s, seen)
	}
	for _, p := range c.Parameters {
		dropParameterExamples(p.Value, seen)
	}
	for _, h := range c.Headers {
		dropHeaderExamples(h.Value, seen)
	}
	for _, b := range c.RequestBodies {
		b.Value.Description = ""
		dropContentExamples(b.Value.Content, seen)
	}
	for _, r := range c.Responses {
		dropResponseExamples(r.Value, seen)
	}
	for _, item := range doc.Paths.Map() {
		item.Summary, item.Description = "", ""
		for _, p := range item.Parameters {
			dropParameterExamples(p.Value, seen)
		}
		for _, op := range item.Operations() {
			op.Summary, op.Description = "", ""
			if op.ExternalDocs != nil {
				op.ExternalDocs.Description = ""
			}
			for _, p := range op.Parameters {
				dropParameterExamples(p.Value, seen)
			}
			if op.RequestBody != nil {
				op.RequestBody.Value.Description = ""
				dropContentExamples(op.RequestBody.Value.Content, seen)
			}
			for _, r := range op.Responses.Map() {
				dropResponseExamples(r.Value, seen)
			}
		}
	}
}

func dropResponseExamples(r *openapi3.Response, seen map[*openapi3.Schema]bool) {
	r.Description = nil
	for _, h := range r.Headers {
		dropHeaderExamples(h.Value, seen)
	}
	dropContentExamples(r.Content, seen)
}

func dropHeaderExamples(h *openapi3.Header, seen map[*openapi3.Schema]bool) {
	dropParameterExamples(&h.Parameter, seen)
}

func dropParameterExamples(p *openapi3.Parameter, seen map[*openapi3.Schema]bool) {
	p.Example, p.Examples, p.Description = nil, nil, ""
	dropSchemaExamples(p.Schema, seen)
	dropContentExamples(p.Content, seen)
}

func dropContentExamples(c openapi3.Content, seen map[*openapi3.Schema]bool) {
	for _, m := range c {
		m.Example, m.Examples = nil, nil
		dropSchemaExamples(m.Schema, seen)
	}
}

func dropSchemaExamples(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	s.Example, s.Examples, s.Description = nil, nil, ""
	for _, p := range s.Properties {
		dropSchemaExamples(p, seen)
	}
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, x := range list {
			dropSchemaExamples(x, seen)
		}
	}
	dropSchemaExamples(s.Items, seen)
	dropSchemaExamples(s.Not, seen)
	dropSchemaExamples(s.AdditionalProperties.Schema, seen)
}
