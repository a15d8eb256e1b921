package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/apikeyd/apikeyd/gen/tz"
	"github.com/apikeyd/apikeyd/impl/apikeys"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/openapi"
)

// schema is the published JSON Schema of the seed file, compiled with
// apikeyd's formats, and the message each of its patterns gives
// (x-pattern-message beside it).
type schema struct {
	compiled        *jsonschema.Schema
	patternMessages map[string]string
	// printer words the validator's messages that are not ours.
	printer *message.Printer
}

// schemaURL names the schema to the compiler; it loads nothing from it.
const schemaURL = "urn:apikeyd:" + openapi.SeedSchema

func compileSchema() (*schema, error) {
	raw, err := openapi.Documents.ReadFile(openapi.SeedSchema)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", openapi.SeedSchema, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range formats() {
		c.RegisterFormat(f)
	}
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", openapi.SeedSchema, err)
	}
	compiled, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", openapi.SeedSchema, err)
	}
	s := &schema{compiled: compiled, patternMessages: map[string]string{}, printer: message.NewPrinter(language.English)}
	collectPatternMessages(doc, s.patternMessages)
	return s, nil
}

func collectPatternMessages(v any, into map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		if p, ok := v["pattern"].(string); ok {
			if m, ok := v["x-pattern-message"].(string); ok {
				into[p] = m
			}
		}
		for _, c := range v {
			collectPatternMessages(c, into)
		}
	case []any:
		for _, c := range v {
			collectPatternMessages(c, into)
		}
	}
}

// formats are the schema's apikeyd-* formats: the checks a pattern cannot
// make. Each ignores values of another type, which "type" refuses.
func formats() []*jsonschema.Format {
	return []*jsonschema.Format{
		{Name: "apikeyd-snowflake", Validate: func(v any) error {
			s, ok := v.(string)
			if n, isNumber := v.(json.Number); isNumber {
				s, ok = string(n), true
			}
			if !ok {
				return nil
			}
			if id, err := snowflake.Parse(s); err != nil || id == 0 {
				return errors.New("must be a Discord id: a positive integer below 2^63 without leading zeros")
			}
			return nil
		}},
		{Name: "apikeyd-guild-key", Validate: keyFormat(keys.Guild)},
		{Name: "apikeyd-user-key", Validate: keyFormat(keys.User)},
		{Name: "apikeyd-user-name", Validate: ifString(apikeys.CheckUserName)},
		{Name: "apikeyd-time-zone", Validate: ifString(func(s string) error {
			if !tz.Known(s) {
				return errors.New("must be one of the time zones GET /v1/helpers/get-supported-timezones lists")
			}
			return nil
		})},
		{Name: "apikeyd-discord-token", Validate: ifString(func(s string) error {
			if _, ours := keys.Ours(s); ours {
				return errors.New("is written as one of apikeyd's own secrets, which /v1 never sends to Discord: choose another token")
			}
			return nil
		})},
	}
}

func ifString(check func(string) error) func(any) error {
	return func(v any) error {
		if s, ok := v.(string); ok {
			return check(s)
		}
		return nil
	}
}

// keyFormat checks a key of kind want by its prefix and checksum, saying
// which failed without ever repeating the key.
func keyFormat(want keys.Kind) func(any) error {
	return ifString(func(s string) error {
		got, err := keys.Parse(s)
		switch {
		case err == nil && got == want:
			return nil
		case err == nil || !strings.HasPrefix(s, want.Prefix()+"_"):
			return fmt.Errorf("not a %s key (prefix: want %s_)", want, want.Prefix())
		case errors.Is(err, keys.ErrChecksum):
			return fmt.Errorf("not a %s key (checksum)", want)
		}
		return fmt.Errorf("not a %s key (length or characters: want %s_ and 36 base62 characters)", want, want.Prefix())
	})
}

// validate adds a problem for each value the schema refuses: one per
// field, the first in document order, preferring a format's message (the
// most precise) to its pattern's.
func (p *parser) validate(s *schema) {
	err := s.compiled.Validate(p.tree.value)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		if err != nil {
			p.problemAt(0, nil, err.Error())
		}
		return
	}
	byField := map[string]*jsonschema.ValidationError{}
	var order []string
	for _, leaf := range leaves(ve) {
		k := strings.Join(leaf.InstanceLocation, "/")
		prev, seen := byField[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || (isFormat(leaf) && !isFormat(prev)) {
			byField[k] = leaf
		}
	}
	for _, k := range order {
		p.schemaProblem(s, byField[k])
	}
}

func isFormat(e *jsonschema.ValidationError) bool {
	_, ok := e.ErrorKind.(*kind.Format)
	return ok
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// schemaProblem words e where it happened. A message never quotes the
// value: it may be a key.
func (p *parser) schemaProblem(s *schema, e *jsonschema.ValidationError) {
	path := e.InstanceLocation
	line := p.tree.keyNode(path).Line
	var msg string
	switch k := e.ErrorKind.(type) {
	case *kind.Format:
		msg = k.Err.Error()
	case *kind.Pattern:
		msg = s.patternMessages[k.Want]
		if msg == "" {
			msg = "must match " + k.Want
		}
	case *kind.Type:
		msg = fmt.Sprintf("wrong type: want %s, got %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Required:
		msg = "missing field " + quoteAll(k.Missing)
	case *kind.AdditionalProperties:
		for _, field := range slices.Sorted(slices.Values(k.Properties)) {
			fieldPath := append(slices.Clone(path), field)
			p.problemAt(p.tree.keyNode(fieldPath).Line, fieldPath, "unknown field")
		}
		return
	default:
		msg = k.LocalizedString(s.printer)
	}
	p.problemAt(line, path, msg)
}

func quoteAll(fields []string) string {
	q := make([]string, len(fields))
	for i, f := range fields {
		q[i] = fmt.Sprintf("%q", f)
	}
	return strings.Join(q, ", ")
}
