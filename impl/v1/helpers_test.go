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

// Every channel type the document names is one Discord's types map to,
// "unknown" aside, and no type maps to a name the document lacks.
func TestChannelTypesMatchTheDocument(t *testing.T) {
	doc, err := openapi.Load("v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, v := range doc.Components.Schemas["ChannelType"].Value.Enum {
		documented = append(documented, v.(string))
	}
	mapped := []string{string(channelType(-1))}
	for discordType := range channelTypes {
		mapped = append(mapped, string(channelType(discordType)))
	}
	slices.Sort(documented)
	slices.Sort(mapped)
	if !slices.Equal(documented, mapped) {
		t.Fatalf("the document names %v, the code %v", documented, mapped)
	}
}
