// Package keys holds the primitives behind apikeyd's API keys: their text
// format, the lookup hash and the sealed copy kept at rest.
//
// A key reads <prefix>_<body>. The prefix names the kind, so a leaked key
// says what it unlocks: "akdg" for guild keys, "akdu" for the keys managed
// through /apiKeys, "akds" for the dashboard's session ids (not keys, but
// secrets of the same shape, so that one sent where a key is expected is
// recognised as ours and refused without leaving the process). The body is 36 base62 characters (0-9A-Za-z, so the key
// survives URLs, shells and double-click selection): 30 random ones, about
// 178 bits from crypto/rand, then a CRC32 (IEEE) of everything before it,
// as 6 fixed-width base62 digits. The checksum lets a mistyped or truncated
// key be rejected without touching the database, and together with the
// fixed prefix and length lets secret scanners match keys with Pattern and
// few false positives.
//
// At rest a key is never stored in the clear. Its row holds Hash(key), the
// SHA-256 looked up through a unique index when a request presents a key,
// and a copy sealed with AES-256-GCM under the master key (see Sealer; the
// master key's file is package datadir's), so that key lists can show keys
// for copying while a stolen database alone reveals none.
package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/crc32"
)

// Kind tells which API family a key belongs to. The zero Kind is no kind,
// so a forgotten field cannot silently mint a key of either family.
type Kind int

const (
	Guild   Kind = iota + 1 // keys of the Husqy-compatible /v1 API
	User                    // keys managed through /apiKeys
	Session                 // ids of dashboard sessions, held by the session cookie
)

// kinds are every kind of key apikeyd issues. A new kind is added here,
// and is then parsed and recognised as ours like the others.
var kinds = [...]Kind{Guild, User, Session}

// Prefix returns the text before the underscore, or "" for an unknown Kind.
func (k Kind) Prefix() string {
	switch k {
	case Guild:
		return "akdg"
	case User:
		return "akdu"
	case Session:
		return "akds"
	}
	return ""
}

func (k Kind) String() string {
	switch k {
	case Guild:
		return "guild"
	case User:
		return "user"
	case Session:
		return "session"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Pattern matches exactly the keys this package generates, for secret
// scanners. It is unanchored so that it finds keys inside larger text.
const Pattern = `akd[gus]_[0-9A-Za-z]{36}`

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	prefixLen   = 4
	randomLen   = 30
	checksumLen = 6 // 62^6 > 2^32, so any CRC32 fits
	bodyStart   = prefixLen + 1
	checksumAt  = bodyStart + randomLen
	keyLen      = checksumAt + checksumLen
)

// ErrMalformed and ErrChecksum tell a caller why a presented key was refused
// without the key itself appearing in any message. ErrChecksum means the key
// has the right shape, so it is most likely mistyped rather than not a key.
var (
	ErrMalformed = errors.New("keys: malformed key")
	ErrChecksum  = errors.New("keys: key checksum mismatch")
)

// Generate returns a new key of kind k.
func Generate(k Kind) (string, error) {
	prefix := k.Prefix()
	if prefix == "" {
		return "", fmt.Errorf("keys: generate: unknown %v", k)
	}
	b := make([]byte, 0, keyLen)
	b = append(b, prefix...)
	b = append(b, '_')
	var random [64]byte
	for len(b) < checksumAt {
		rand.Read(random[:]) // never fails since Go 1.24
		for _, r := range random {
			// 248 = 4*62: dropping larger bytes keeps every character
			// equally likely, so each carries its full log2(62) bits.
			if r >= 248 {
				continue
			}
			b = append(b, alphabet[r%62])
			if len(b) == checksumAt {
				break
			}
		}
	}
	b = appendChecksum(b, crc32.ChecksumIEEE(b))
	return string(b), nil
}

// Parse reports the kind of key s, checking only what can be checked without
// the database. A nil error does not mean the key exists.
func Parse(s string) (Kind, error) {
	if len(s) != keyLen {
		return 0, fmt.Errorf("%w: %d characters, want %d", ErrMalformed, len(s), keyLen)
	}
	k, ours := Ours(s)
	if !ours {
		return 0, fmt.Errorf("%w: unknown prefix", ErrMalformed)
	}
	for i := bodyStart; i < len(s); i++ {
		if !isBase62(s[i]) {
			return 0, fmt.Errorf("%w: invalid character at offset %d", ErrMalformed, i)
		}
	}
	var want [checksumLen]byte
	appendChecksum(want[:0], crc32.ChecksumIEEE([]byte(s[:checksumAt])))
	if s[checksumAt:] != string(want[:]) {
		return 0, ErrChecksum
	}
	return k, nil
}

// Ours reports whether s is written as a key of apikeyd's, of any kind:
// it starts with a kind's prefix and an underscore. The rest is not
// checked, since a mistyped or cut-off key is still mostly a secret of
// ours: whatever Ours claims must never be sent elsewhere (to Discord).
// No Discord token starts so, as they hold no underscore.
func Ours(s string) (Kind, bool) {
	for _, k := range kinds {
		if p := k.Prefix(); len(s) > len(p) && s[len(p)] == '_' && s[:len(p)] == p {
			return k, true
		}
	}
	return 0, false
}

// appendChecksum appends crc as big-endian base62, zero-padded, so that the
// checksum always occupies the same characters.
func appendChecksum(b []byte, crc uint32) []byte {
	var digits [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		digits[i] = alphabet[crc%62]
		crc /= 62
	}
	return append(b, digits[:]...)
}

func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// Hash returns the SHA-256 of key, the value a key is looked up by. A fast
// unsalted hash suffices because keys carry ~178 random bits: there is
// nothing to brute-force, and lookups must be by exact value.
func Hash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// Equal compares two hashes in constant time, so that the time a comparison
// takes does not reveal how much of a secret value matched.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
