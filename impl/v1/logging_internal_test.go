package v1

import (
	"testing"

	"github.com/apikeyd/apikeyd/openapi"
)

func TestLoggingDefaultsComeFromTheDocument(t *testing.T) {
	doc, err := openapi.Load("v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defaults, err := loggingDefaults(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(defaults) < 100 || !defaults["log_errors"] {
		t.Fatalf("got %d flags, log_errors=%v", len(defaults), defaults["log_errors"])
	}
	update := doc.Components.Schemas["ModuleLoggingUpdate"].Value.Properties
	for name := range defaults {
		if update[name] == nil {
			t.Errorf("%s cannot be updated", name)
		}
	}
}
