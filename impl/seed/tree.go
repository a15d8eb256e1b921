package seed

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	yaml "github.com/oasdiff/yaml3"
)

// tree is a seed file parsed: its YAML nodes, which know their lines, and
// the same content as JSON values (maps, slices, strings, json.Number,
// bools and nil), which the schema validates.
type tree struct {
	root  *yaml.Node
	value any
}

// decimal is an integer written in decimal, kept as written: a Discord id
// with leading zeros must reach the checks as "042", not as 42 or as an
// octal number.
var decimal = regexp.MustCompile(`^-?[0-9]+$`)

// toValue converts n into a JSON value, adding a problem for what JSON
// cannot hold (a duplicate field, an infinite number).
func (p *parser) toValue(n *yaml.Node, path []string) any {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return p.toValue(n.Content[0], path)
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if _, dup := out[key]; dup {
				p.problemAt(n.Content[i].Line, append(path, key), "the field is given twice")
				continue
			}
			out[key] = p.toValue(n.Content[i+1], append(path, key))
		}
		return out
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i] = p.toValue(c, append(path, strconv.Itoa(i)))
		}
		return out
	}
	return p.scalar(n, path)
}

func (p *parser) scalar(n *yaml.Node, path []string) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			return n.Value
		}
		return b
	case "!!int":
		if decimal.MatchString(n.Value) {
			return json.Number(n.Value)
		}
		if i, ok := new(big.Int).SetString(n.Value, 0); ok {
			return json.Number(i.String())
		}
		return n.Value
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			p.problemAt(n.Line, path, "must be a number JSON can hold (not infinite or NaN)")
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return n.Value
}

// node finds the node at path (JSON Schema's instance location: field
// names and decimal indices), or the deepest node on the way there.
func (t *tree) node(path []string) *yaml.Node {
	n := t.root
	for _, tok := range path {
		next := child(n, tok)
		if next == nil {
			break
		}
		n = next
	}
	return n
}

// keyNode is the node of the field name at the end of path, where an
// unknown field is best pointed at; else node(path).
func (t *tree) keyNode(path []string) *yaml.Node {
	if len(path) == 0 {
		return t.node(path)
	}
	parent := deref(t.node(path[:len(path)-1]))
	if parent.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(parent.Content); i += 2 {
			if parent.Content[i].Value == path[len(path)-1] {
				return parent.Content[i]
			}
		}
	}
	return t.node(path)
}

func child(n *yaml.Node, tok string) *yaml.Node {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == tok {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			break
		}
	}
	return n
}

// fieldName writes path as a reader of the file names the field:
// guilds[0].keys[1]. An index is a token that is all digits under a
// sequence; the file's fields are never all digits, as the schema allows
// none such.
func fieldName(path []string) string {
	var b strings.Builder
	for _, tok := range path {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}
