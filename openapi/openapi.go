// Package openapi embeds the documents byte for byte: they are served at
// /openapi/*.yaml, and the validators and the tests that read the
// documents are built from them. The generated packages embed no copy.
package openapi

import (
	"embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// Documents holds v1.yaml and apikeys.yaml.
//
//go:embed *.yaml
var Documents embed.FS

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
