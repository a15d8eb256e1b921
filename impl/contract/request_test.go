package contract_test

import (
	"context"
	"io"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/contract"
)

const requestDoc = `
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /things/{name}:
    post:
      operationId: makeThing
      parameters:
        - name: name
          in: path
          required: true
          schema: {type: string, maxLength: 3}
          examples:
            made: {value: abc}
        - name: limit
          in: query
          schema: {type: integer, maximum: 10}
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [n], properties: {n: {type: integer}}}
            examples:
              made: {value: {n: 1}}
      responses:
        '200':
          description: made
          content:
            application/json:
              examples:
                made: {value: {}}
        '400':
          description: refused
          content:
            application/json:
              examples:
                too-long:
                  x-request:
                    path: {name: abcd}
                    query: {limit: 11}
                    body: {}
                  value: {}
                not-json:
                  x-request:
                    content-type: text/plain
                    body-bytes: 20
                    header-bytes: 5
                  value: {}
`

func TestXRequestReplacesTheOperationsExamples(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(requestDoc))
	if err != nil {
		t.Fatal(err)
	}
	if err := contract.CheckDocument(doc); err != nil {
		t.Fatalf("the operation's own examples are valid: %v", err)
	}
	cases, err := contract.Cases(doc)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]contract.Case{}
	for _, c := range cases {
		byName[c.Name] = c
	}
	for _, tc := range []struct {
		name, path, query, contentType, body, padding string
	}{
		{"makeThing/200/made", "/things/abc", "", "application/json", `{"n":1}`, ""},
		{"makeThing/400/too-long", "/things/abcd", "limit=11", "application/json", `{}`, ""},
		{"makeThing/400/not-json", "/things/abc", "", "text/plain", `{"n":1}             `, "ppppp"},
	} {
		c, ok := byName[tc.name]
		if !ok {
			t.Fatalf("no case %s among %v", tc.name, cases)
		}
		req, err := c.Request(context.Background(), "http://example.test")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(req.Body)
		if req.URL.Path != tc.path || req.URL.RawQuery != tc.query || string(body) != tc.body ||
			req.Header.Get("Content-Type") != tc.contentType || req.Header.Get("X-Padding") != tc.padding {
			t.Errorf("%s: got %s ?%s %q, Content-Type %q, X-Padding %q; want %s ?%s %q, %q, %q", tc.name,
				req.URL.Path, req.URL.RawQuery, body, req.Header.Get("Content-Type"), req.Header.Get("X-Padding"),
				tc.path, tc.query, tc.body, tc.contentType, tc.padding)
		}
	}
}
