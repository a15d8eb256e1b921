package contract_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	apikeysapi "github.com/apikeyd/apikeyd/gen/apikeys"
	v1api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/contract"
)

func TestDocumentsAndTheirExamplesAreValid(t *testing.T) {
	for name, load := range map[string]func() (*openapi3.T, error){
		"apikeys.yaml": apikeysapi.GetSwagger,
		"v1.yaml":      v1api.GetSwagger,
	} {
		doc, err := load()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := contract.CheckDocument(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
