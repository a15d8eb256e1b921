// Package openapi embeds the documents byte for byte: they are served at
// /openapi/*.yaml, and the validators and the tests that read the
// documents are built from them. The generated packages embed no copy.
// Beside them, the JSON Schema of the seed file (served at
// /openapi/seed.schema.json) is what apikeyd checks a seed file with.
package openapi

import (
	"embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/gen/docsgo"
)

// Documents holds v1.yaml, apikeys.yaml and seed.schema.json.
//
//go:embed *.yaml seed.schema.json
var Documents embed.FS

// SeedSchema is the name of the seed file's JSON Schema in Documents.
const SeedSchema = "seed.schema.json"

// Load parses one of the documents, such as "v1.yaml".
func Load(name string) (*openapi3.T, error) {
	b, err := Documents.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	return doc, nil
}

// LoadForValidation builds one of the documents without its examples,
// descriptions and summaries, which validating requests never reads: the
// value kin-openapi's Loader makes of the JSON that go generate derives
// from the document (gen/docsjson), written out as Go (gen/docsgo), so
// that no JSON is decoded. Decoding it was most of the CPU and of the
// garbage of a start, and a project's CI starts apikeyd on every run.
func LoadForValidation(name string) (*openapi3.T, error) {
	doc, ok := docsgo.Document(name)
	if !ok {
		return nil, fmt.Errorf("load %s: no such document in gen/docsgo: run go generate", name)
	}
	return doc, nil
}
