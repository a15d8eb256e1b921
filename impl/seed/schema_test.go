package seed_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/apikeyd/apikeyd/openapi"
)

// TestSchemaSaysWhatTheDocumentsSay: the seed file's rules for user keys
// and settings are those of the API documents, so that what a seed holds
// the APIs would have accepted too.
func TestSchemaSaysWhatTheDocumentsSay(t *testing.T) {
	raw, err := openapi.Documents.ReadFile(openapi.SeedSchema)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Defs map[string]struct {
			Pattern    string `json:"pattern"`
			Properties map[string]struct {
				Pattern   string  `json:"pattern"`
				MinLength *uint64 `json:"minLength"`
				MaxLength *uint64 `json:"maxLength"`
				Enum      []any   `json:"enum"`
				Minimum   *float64
				Maximum   *float64
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	apiKeys, err := openapi.Load("apikeys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := openapi.Load("v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	userKey := schema.Defs["userKey"].Properties
	for field, name := range map[string]string{"user": "UserName", "note": "Note", "token": "Token"} {
		doc := apiKeys.Components.Schemas[name].Value
		got := userKey[field]
		if got.Pattern != doc.Pattern || !reflect.DeepEqual(got.MinLength, ptrOr(doc.MinLength)) || !reflect.DeepEqual(got.MaxLength, doc.MaxLength) {
			t.Errorf("userKey.%s is not apikeys.yaml's %s", field, name)
		}
	}
	settings := schema.Defs["settings"].Properties
	update := v1.Components.Schemas["SettingsUpdate"].Value.Properties
	for _, field := range []string{"language", "unit_system"} {
		if !reflect.DeepEqual(settings[field].Enum, update[field].Value.Enum) {
			t.Errorf("settings.%s: %v, v1.yaml says %v", field, settings[field].Enum, update[field].Value.Enum)
		}
	}
	if settings["gmt"].Pattern != update["gmt"].Value.Pattern {
		t.Error("settings.gmt is not v1.yaml's")
	}
	if ad := update["auto_delete"].Value; !reflect.DeepEqual(settings["auto_delete"].Minimum, ad.Min) || !reflect.DeepEqual(settings["auto_delete"].Maximum, ad.Max) {
		t.Error("settings.auto_delete is not v1.yaml's")
	}
	if got := schema.Defs["guildKey"].Pattern; got != "^akdg_[0-9A-Za-z]{36}$" {
		t.Errorf("guildKey: %s", got)
	}
}

func ptrOr(v uint64) *uint64 { return &v }
