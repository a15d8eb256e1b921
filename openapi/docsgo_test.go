package openapi_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/gen/docsgo"
	"github.com/apikeyd/apikeyd/gen/docsjson"
)

// TestTheBuiltDocumentsAreWhatTheLoaderReadsFromTheJSON: gen/docsgo builds
// the very value kin-openapi's Loader makes of gen/docsjson, every exported
// field (a $ref's target included), with a pointer shared wherever the
// Loader shares one. Where it shares more (the equal schemas it interns),
// the shared value is walked once for every place the Loader has a copy,
// and equals each copy.
func TestTheBuiltDocumentsAreWhatTheLoaderReadsFromTheJSON(t *testing.T) {
	for _, name := range []string{"v1.yaml", "apikeys.yaml"} {
		t.Run(name, func(t *testing.T) {
			text, ok := docsjson.Document(name)
			if !ok {
				t.Fatal("not in gen/docsjson")
			}
			loaded, err := openapi3.NewLoader().LoadFromData([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			built, ok := docsgo.Document(name)
			if !ok {
				t.Fatal("not in gen/docsgo")
			}
			c := comparison{toBuilt: map[uintptr]uintptr{}}
			if err := c.same(reflect.ValueOf(loaded), reflect.ValueOf(built), "doc"); err != nil {
				t.Fatalf("gen/docsgo's %s is not what the Loader reads from gen/docsjson: run go generate: %v", name, err)
			}
			again, _ := docsgo.Document(name)
			for k, schema := range built.Components.Schemas {
				if again.Components.Schemas[k].Value == schema.Value {
					t.Fatalf("two calls share the schema %s: a caller may change its own document", k)
				}
			}
		})
	}
}

// comparison walks two values side by side; toBuilt pairs each pointer of
// the loaded value met so far with the built one it stands for.
type comparison struct{ toBuilt map[uintptr]uintptr }

func (c comparison) same(a, b reflect.Value, path string) error {
	if a.Type() != b.Type() {
		return fmt.Errorf("%s: %s and %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Errorf("%s: one is nil", path)
			}
			return nil
		}
		pa, pb := a.Pointer(), b.Pointer()
		if got, ok := c.toBuilt[pa]; ok {
			if got != pb {
				return fmt.Errorf("%s: shared in the loaded document, not in the built one", path)
			}
			return nil
		}
		// A value the built document shares where the Loader has copies
		// (interned) is walked again for each copy, and so equals each.
		c.toBuilt[pa] = pb
		if m := a.MethodByName("Map"); m.IsValid() && a.Elem().Kind() == reflect.Struct {
			if err := c.same(m.Call(nil)[0], b.MethodByName("Map").Call(nil)[0], path+".Map()"); err != nil {
				return err
			}
		}
		return c.same(a.Elem(), b.Elem(), path)
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Errorf("%s: one is nil", path)
			}
			return nil
		}
		return c.same(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if f.IsExported() {
				if err := c.same(a.Field(i), b.Field(i), path+"."+f.Name); err != nil {
					return err
				}
			}
		}
		return nil
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Errorf("%s: maps of %d and %d entries (nil: %v, %v)", path, a.Len(), b.Len(), a.IsNil(), b.IsNil())
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return fmt.Errorf("%s[%v]: missing", path, k)
			}
			if err := c.same(a.MapIndex(k), bv, fmt.Sprintf("%s[%v]", path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return fmt.Errorf("%s: slices of %d and %d (nil: %v, %v)", path, a.Len(), b.Len(), a.IsNil(), b.IsNil())
		}
		for i := range a.Len() {
			if err := c.same(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		if !a.IsNil() || !b.IsNil() {
			return fmt.Errorf("%s: a %s, which gen/docsgo cannot build", path, a.Kind())
		}
		return nil
	}
	if !a.Equal(b) {
		return fmt.Errorf("%s: %v and %v", path, a, b)
	}
	return nil
}
