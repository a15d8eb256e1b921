package v1

import (
	"slices"
	"testing"

	"github.com/apikeyd/apikeyd/openapi"
)

// The helpers list exactly the values the document lets PUT /settings take.
func TestHelpersMatchTheDocument(t *testing.T) {
	doc, err := openapi.Load("v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	enum := func(field string) []string {
		var out []string
		for _, v := range doc.Components.Schemas["SettingsUpdate"].Value.Properties[field].Value.Enum {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	var abbreviations []string
	for _, l := range languages {
		abbreviations = append(abbreviations, l.Abbreviation)
	}
	if got, want := abbreviations, enum("language"); !slices.Equal(got, want) {
		t.Errorf("languages: got %v, document says %v", got, want)
	}
	if got, want := unitSystems, enum("unit_system"); !slices.Equal(got, want) {
		t.Errorf("unit systems: got %v, document says %v", got, want)
	}
}
