package keys

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func anchoredPattern(t testing.TB) *regexp.Regexp {
	t.Helper()
	return regexp.MustCompile(`^(?:` + Pattern + `)$`)
}

func generate(t testing.TB, k Kind) string {
	t.Helper()
	key, err := Generate(k)
	if err != nil {
		t.Fatalf("Generate(%v): %v", k, err)
	}
	return key
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind         Kind
		prefix, name string
	}{
		{Guild, "akdg", "guild"},
		{User, "akdu", "user"},
		{Session, "akds", "session"},
		{0, "", "Kind(0)"},
		{4, "", "Kind(4)"},
	}
	for _, tt := range tests {
		if got, want := tt.kind.Prefix(), tt.prefix; got != want {
			t.Errorf("Kind(%d).Prefix() = %q, want %q", int(tt.kind), got, want)
		}
		if got, want := tt.kind.String(), tt.name; got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(tt.kind), got, want)
		}
	}
}

// TestOurs: a string written as a key of any kind is ours, its checksum
// right or not; nothing else is.
func TestOurs(t *testing.T) {
	for _, k := range kinds {
		key := generate(t, k)
		for _, s := range []string{key, key[:len(key)-1], key[:len(k.Prefix())+1], key + "x"} {
			if got, ours := Ours(s); !ours || got != k {
				t.Errorf("Ours(%q) = %v, %v, want %v, true", s, got, ours, k)
			}
		}
	}
	for _, s := range []string{"", "akdg", "akdu", "AKDG_" + strings.Repeat("0", 36), "akdx_0", "xakdg_0", "mfa.akdg_", "tok3nS3cr3tDoNotLeak9xQ"} {
		if got, ours := Ours(s); ours {
			t.Errorf("Ours(%q) = %v, true, want not ours", s, got)
		}
	}
}

func TestGenerateParseRoundTrip(t *testing.T) {
	re := anchoredPattern(t)
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			for range 100 {
				key := generate(t, k)
				if got, want := len(key), 41; got != want {
					t.Fatalf("len(key) = %d, want %d", got, want)
				}
				if got, want := key[:5], k.Prefix()+"_"; got != want {
					t.Fatalf("key starts with %q, want %q", got, want)
				}
				if !re.MatchString(key) {
					t.Fatalf("key does not match Pattern %s", Pattern)
				}
				got, err := Parse(key)
				if err != nil {
					t.Fatalf("Parse(generated key): %v", err)
				}
				if want := k; got != want {
					t.Fatalf("Parse(generated key) = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestGenerateUnknownKind(t *testing.T) {
	for _, k := range []Kind{0, 4, -1} {
		if key, err := Generate(k); err == nil {
			t.Errorf("Generate(%v) = %q, want an error", k, key)
		}
	}
}

func TestGenerateDistinct(t *testing.T) {
	const n = 20000
	seen := make(map[string]bool, n)
	for i := range n {
		key := generate(t, kinds[i%len(kinds)])
		if seen[key] {
			t.Fatalf("key generated twice after %d keys", i)
		}
		seen[key] = true
	}
}

// TestGenerateUsesWholeAlphabet guards the rejection sampling: a mapping
// bug that never yields some characters would shrink the key space.
func TestGenerateUsesWholeAlphabet(t *testing.T) {
	counts := make(map[byte]int)
	for range 2000 {
		key := generate(t, Guild)
		for i := bodyStart; i < checksumAt; i++ {
			counts[key[i]]++
		}
	}
	// 60000 characters: about 968 of each; below 700 is far beyond chance.
	for i := range len(alphabet) {
		if got := counts[alphabet[i]]; got < 700 || got > 1250 {
			t.Errorf("character %q drawn %d times in 60000, want about 968", alphabet[i], got)
		}
	}
}

// wantParseError is the error Parse should return for mutated, a generated
// key with one character changed at position i.
func wantParseError(mutated string, i int) error {
	switch {
	case i < prefixLen:
		if p := mutated[:prefixLen]; p == Guild.Prefix() || p == User.Prefix() || p == Session.Prefix() {
			return ErrChecksum // the checksum covers the prefix
		}
		return ErrMalformed
	case i == prefixLen:
		return ErrMalformed
	case isBase62(mutated[i]):
		return ErrChecksum
	default:
		return ErrMalformed
	}
}

func TestParseRejectsEverySingleCharacterChange(t *testing.T) {
	replacements := alphabet + "_-"
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			key := generate(t, k)
			tried := 0
			for i := range len(key) {
				for j := range len(replacements) {
					c := replacements[j]
					if c == key[i] {
						continue
					}
					mutated := key[:i] + string(c) + key[i+1:]
					tried++
					_, err := Parse(mutated)
					if want := wantParseError(mutated, i); !errors.Is(err, want) {
						t.Errorf("Parse(key with %q at %d) error = %v, want %v", c, i, err, want)
					}
				}
			}
			if got, want := tried, len(key)*(len(replacements)-1); got != want {
				t.Errorf("tried %d mutations, want %d", got, want)
			}
		})
	}
}

func TestParseRejectsTruncationAndExtension(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			key := generate(t, k)
			for n := range len(key) {
				if _, err := Parse(key[:n]); !errors.Is(err, ErrMalformed) {
					t.Errorf("Parse(key[:%d]) error = %v, want %v", n, err, ErrMalformed)
				}
				if _, err := Parse(key[n+1:]); !errors.Is(err, ErrMalformed) {
					t.Errorf("Parse(key[%d:]) error = %v, want %v", n+1, err, ErrMalformed)
				}
			}
			for _, suffix := range []string{"0", "a", "Z", "_", "-", " ", "\n", key} {
				if _, err := Parse(key + suffix); !errors.Is(err, ErrMalformed) {
					t.Errorf("Parse(key+%q) error = %v, want %v", suffix, err, ErrMalformed)
				}
			}
		})
	}
}

// TestParseFixedKeys pins the format with keys whose checksums were computed
// by an independent implementation (Python's zlib.crc32), the same keys
// that seed FuzzParse.
func TestParseFixedKeys(t *testing.T) {
	tests := []struct {
		key     string
		want    Kind
		wantErr error
	}{
		{"akdg_AGIIXXlxhPtuKA4aZ9x37GoYHcnUuR28tJ7n", Guild, nil},
		{"akdu_nZUYJtjSYDeRucvjwwJaqcrdfTNbDy1UwkJo", User, nil},
		{"akds_igCR0ia8BrT87j5tF59qdCRXBcDrel1hWax0", Session, nil},
		{"akds_nZUYJtjSYDeRucvjwwJaqcrdfTNbDy1UwkJo", 0, ErrChecksum},
		{"akdu_nZUYJtjSYDeRucvjwwJaqcrdfTNbDy1UwkJp", 0, ErrChecksum},
		{"akdg_nZUYJtjSYDeRucvjwwJaqcrdfTNbDy1UwkJo", 0, ErrChecksum},
		{"akdg_AGIIXXlxhPtuKA4-Z9x37GoYHcnUuR28tJ7n", 0, ErrMalformed},
		{"akdg_AGIIXXlxhPtuKA4aZ9x37GoYHcnUuR28tJ7", 0, ErrMalformed},
	}
	for _, tt := range tests {
		got, err := Parse(tt.key)
		if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("Parse(%q) error = %v, want %v", tt.key, err, tt.wantErr)
		}
		if want := tt.want; got != want {
			t.Errorf("Parse(%q) = %v, want %v", tt.key, got, want)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	key := generate(t, Guild)
	body := key[bodyStart:]
	tests := []struct {
		name, input string
	}{
		{"empty", ""},
		{"prefix only", "akdg_"},
		{"upper-case prefix", "AKDG_" + body},
		{"unknown prefix", "akdx_" + body},
		{"dash separator", "akdg-" + body},
		{"leading space", " " + key[:len(key)-1]},
		{"trailing newline", key[:len(key)-1] + "\n"},
		{"non-ASCII", key[:len(key)-2] + "é"},
		{"NUL", key[:len(key)-1] + "\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, err := Parse(tt.input)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error = %v, want %v", err, ErrMalformed)
			}
			if got, want := kind, Kind(0); got != want {
				t.Errorf("Parse kind = %v, want %v", got, want)
			}
		})
	}
}

func TestParseErrorsOmitKey(t *testing.T) {
	key := generate(t, User)
	secret := key[bodyStart:checksumAt]
	inputs := []string{
		key[:len(key)-1] + string(alphabet[(strings.IndexByte(alphabet, key[len(key)-1])+1)%62]),
		key[:20] + "-" + key[21:],
		key + "x",
		key[:40],
		"akdx" + key[4:],
	}
	for _, input := range inputs {
		_, err := Parse(input)
		if err == nil {
			t.Fatalf("Parse accepted a mutated key")
		}
		if msg := err.Error(); strings.Contains(msg, secret[:8]) || strings.Contains(msg, secret[20:]) {
			t.Errorf("Parse error %q contains part of the key", msg)
		}
	}
}

func TestHash(t *testing.T) {
	a, b := generate(t, Guild), generate(t, Guild)
	if got, want := len(Hash(a)), 32; got != want {
		t.Fatalf("len(Hash) = %d, want %d", got, want)
	}
	if !Equal(Hash(a), Hash(a)) {
		t.Error("Hash is not deterministic")
	}
	if Equal(Hash(a), Hash(b)) {
		t.Error("distinct keys hash equal")
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b []byte
		want bool
	}{
		{nil, nil, true},
		{[]byte{}, nil, true},
		{[]byte{1, 2, 3}, []byte{1, 2, 3}, true},
		{[]byte{1, 2, 3}, []byte{1, 2, 4}, false},
		{[]byte{1, 2, 3}, []byte{1, 2}, false},
		{[]byte{1}, nil, false},
	}
	for _, tt := range tests {
		if got, want := Equal(tt.a, tt.b), tt.want; got != want {
			t.Errorf("Equal(%v, %v) = %v, want %v", tt.a, tt.b, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	// Seeds must be the same in every fuzz worker, so no generated keys
	// here: testdata/fuzz/FuzzParse holds valid ones.
	f.Add("akdg_000000000000000000000000000000000000")
	f.Add("")
	re := anchoredPattern(f)
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrChecksum) {
				t.Fatalf("Parse error %v is neither ErrMalformed nor ErrChecksum", err)
			}
			return
		}
		if !re.MatchString(s) {
			t.Fatalf("Parse accepted %q, which does not match Pattern", s)
		}
		if kind.Prefix() != s[:prefixLen] {
			t.Fatalf("Parse(%q) = %v, whose prefix differs", s, kind)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	key := generate(b, Guild)
	for b.Loop() {
		if _, err := Parse(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	key := generate(b, Guild)
	for b.Loop() {
		Hash(key)
	}
}
