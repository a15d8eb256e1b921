package contract_test

import (
	"testing"

	"github.com/apikeyd/apikeyd/impl/contract"
	"github.com/apikeyd/apikeyd/openapi"
)

func TestDocumentsAndTheirExamplesAreValid(t *testing.T) {
	for _, name := range []string{"apikeys.yaml", "v1.yaml"} {
		doc, err := openapi.Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := contract.CheckDocument(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
