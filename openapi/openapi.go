// Package openapi embeds the documents byte for byte, as served at
// /openapi/*.yaml; the generated packages embed the parsed form that the
// validators use.
package openapi

import "embed"

// Documents holds v1.yaml and apikeys.yaml.
//
//go:embed *.yaml
var Documents embed.FS
