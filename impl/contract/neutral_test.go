package contract_test

import (
	"bufio"
	"bytes"
	"regexp"
	"testing"

	"github.com/apikeyd/apikeyd/openapi"
)

// goOnly are extensions that speak to one Go generator: the documents
// are read by every client generator, so such mappings live in the
// server's overlay (tools/oapi-codegen) instead.
var goOnly = regexp.MustCompile(`^\s*-?\s*(x-go-[a-z-]+|x-oapi-codegen-[a-z-]+|x-enum-varnames|x-omitempty|x-omitzero|x-order)\s*:`)

func TestDocumentsAreLanguageNeutral(t *testing.T) {
	for _, name := range []string{"apikeys.yaml", "v1.yaml"} {
		b, err := openapi.Documents.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for n := 1; sc.Scan(); n++ {
			if m := goOnly.FindStringSubmatch(sc.Text()); m != nil {
				t.Errorf("%s:%d: %s belongs in the server's overlay, not in the document", name, n, m[1])
			}
		}
	}
}
