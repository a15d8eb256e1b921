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

	"github.com/apikeyd/apikeyd/gen/docsjson"
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

// LoadForValidation parses one of the documents without its examples,
// descriptions and summaries, which validating requests never reads, from the JSON form that go
// generate derives from it (gen/docsjson). kin-openapi reads that several
// times faster than the YAML: reading the documents is most of the time a
// start takes, and a project's CI starts apikeyd on every run.
func LoadForValidation(name string) (*openapi3.T, error) {
	text, ok := docsjson.Document(name)
	if !ok {
		return nil, fmt.Errorf("load %s: no such document in gen/docsjson: run go generate", name)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	return doc, nil
}
