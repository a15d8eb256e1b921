package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func newSealer(t testing.TB) *Sealer {
	t.Helper()
	master := make([]byte, MasterKeySize)
	rand.Read(master)
	s, err := NewSealer(master)
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

func seal(t testing.TB, s *Sealer, key string) []byte {
	t.Helper()
	sealed, err := s.Seal(key)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return sealed
}

func TestNewSealerKeySize(t *testing.T) {
	tests := []struct {
		size    int
		wantErr bool
	}{
		{0, true},
		{16, true},
		{24, true},
		{31, true},
		{32, false},
		{33, true},
		{64, true},
	}
	for _, tt := range tests {
		_, err := NewSealer(make([]byte, tt.size))
		if got, want := err != nil, tt.wantErr; got != want {
			t.Errorf("NewSealer(%d bytes) error = %v, want error: %v", tt.size, err, want)
		}
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	s := newSealer(t)
	for _, k := range kinds {
		key := generate(t, k)
		sealed := seal(t, s, key)
		if got, want := len(sealed), headerSize+12+len(key)+16; got != want {
			t.Errorf("len(sealed) = %d, want header+nonce+key+tag = %d", got, want)
		}
		if strings.Contains(string(sealed), key[bodyStart:checksumAt]) {
			t.Error("sealed copy contains the key in the clear")
		}
		got, err := s.Open(sealed, Hash(key))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if want := key; got != want {
			t.Errorf("Open returned a different key")
		}
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	s := newSealer(t)
	key := generate(t, Guild)
	if string(seal(t, s, key)) == string(seal(t, s, key)) {
		t.Error("sealing a key twice gave identical blobs")
	}
}

func TestOpenRejects(t *testing.T) {
	s := newSealer(t)
	key, other := generate(t, Guild), generate(t, Guild)
	sealed := seal(t, s, key)
	sealedOther := seal(t, s, other)
	tests := []struct {
		name   string
		sealer *Sealer
		sealed []byte
		hash   []byte
	}{
		{"other master key", newSealer(t), sealed, Hash(key)},
		{"other key's hash", s, sealed, Hash(other)},
		{"other key's blob", s, sealedOther, Hash(key)},
		{"nil hash", s, sealed, nil},
		{"truncated hash", s, sealed, Hash(key)[:31]},
		{"empty blob", s, nil, Hash(key)},
		{"header only", s, sealed[:headerSize], Hash(key)},
		{"nonce only", s, sealed[:headerSize+12], Hash(key)},
		{"truncated tag", s, sealed[:len(sealed)-1], Hash(key)},
		{"extended", s, append(append([]byte(nil), sealed...), 0), Hash(key)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.sealed, tt.hash)
			if err == nil {
				t.Fatal("Open succeeded, want an error")
			}
			if got != "" {
				t.Errorf("Open returned %d characters alongside its error", len(got))
			}
			if msg := err.Error(); strings.Contains(msg, key[bodyStart:checksumAt]) || strings.Contains(msg, other[bodyStart:checksumAt]) {
				t.Errorf("Open error %q contains a key", msg)
			}
		})
	}
}

// TestOpenDetectsEveryByteFlip covers the nonce, the ciphertext and the tag.
func TestOpenDetectsEveryByteFlip(t *testing.T) {
	s := newSealer(t)
	key := generate(t, User)
	sealed := seal(t, s, key)
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			tampered := append([]byte(nil), sealed...)
			tampered[i] ^= mask
			if _, err := s.Open(tampered, Hash(key)); err == nil {
				t.Errorf("Open accepted the blob with byte %d xor %#x", i, mask)
			}
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	s := newSealer(b)
	key := generate(b, Guild)
	for b.Loop() {
		if _, err := s.Seal(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := newSealer(b)
	key := generate(b, Guild)
	sealed, hash := seal(b, s, key), Hash(key)
	for b.Loop() {
		if _, err := s.Open(sealed, hash); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSealBoundOpensOnlyWithItsBinding(t *testing.T) {
	s := newSealer(t)
	const secret = "discord-access-token-0123456789"
	binding := []byte("access\x00" + string(Hash("akds_row")))
	sealed, err := s.SealBound(secret, binding)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) {
		t.Error("sealed copy contains the secret in the clear")
	}
	got, err := s.OpenBound(sealed, binding)
	if err != nil || got != secret {
		t.Fatalf("OpenBound = %d characters, %v; want the secret", len(got), err)
	}
	for name, tt := range map[string]struct {
		sealer  *Sealer
		binding []byte
	}{
		"other master key": {newSealer(t), binding},
		"other column":     {s, []byte("refresh\x00" + string(Hash("akds_row")))},
		"other row":        {s, []byte("access\x00" + string(Hash("akds_other")))},
		"no binding":       {s, nil},
	} {
		got, err := tt.sealer.OpenBound(sealed, tt.binding)
		if err == nil || got != "" {
			t.Errorf("%s: OpenBound = %d characters, %v; want an error", name, len(got), err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q contains the secret", name, err)
		}
	}
}

func newRing(t testing.TB, masters ...[]byte) *Sealer {
	t.Helper()
	s, err := NewRing(masters)
	if err != nil {
		t.Fatalf("NewRing: %v", err)
	}
	return s
}

// sealBeforeTheRing seals as apikeyd did before the ring: nonce ||
// ciphertext || tag under the one master key, binding as the additional
// data, no header.
func sealBeforeTheRing(t *testing.T, master []byte, plain string, binding []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(master)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead.Seal(nil, nil, []byte(plain), binding)
}

// A ring seals under its first key and opens with whichever key a value
// names; a ring without that key says so.
func TestRingSealsUnderTheCurrentKeyAndOpensWithAny(t *testing.T) {
	oldKey, newKey := NewMasterKey(), NewMasterKey()
	oldRing, newOnly, both := newRing(t, oldKey), newRing(t, newKey), newRing(t, newKey, oldKey)
	oldFirst := newRing(t, oldKey, newKey)
	key := generate(t, Guild)
	underOld, underNew := seal(t, oldRing, key), seal(t, both, key)
	for name, tc := range map[string]struct {
		ring   *Sealer
		sealed []byte
	}{
		"old value, ring new,old": {both, underOld},
		"new value, ring new,old": {both, underNew},
		"new value, new key":      {newOnly, underNew},
		"old value, ring old,new": {oldFirst, underOld},
	} {
		if got, err := tc.ring.Open(tc.sealed, Hash(key)); err != nil || got != key {
			t.Errorf("%s: Open = %d characters, %v; want the key", name, len(got), err)
		}
	}
	if _, err := oldRing.Open(underNew, Hash(key)); !errors.Is(err, ErrUnknownMasterKey) {
		t.Errorf("a value of the new key on the old ring: %v, want ErrUnknownMasterKey", err)
	}
	if both.Fingerprint() != newOnly.Fingerprint() {
		t.Errorf("the ring's fingerprint is not its first key's")
	}
	if !both.Holds(oldRing.Fingerprint()) || !both.Holds(newOnly.Fingerprint()) || oldRing.Holds(newOnly.Fingerprint()) {
		t.Error("Holds is wrong about the ring's keys")
	}
	if ids := both.IDs(); len(ids) != 2 || ids[0] != FingerprintID(newOnly.Fingerprint()) || ids[1] != FingerprintID(oldRing.Fingerprint()) {
		t.Errorf("IDs = %v, want the new key's id then the old one's", ids)
	}
}

// Values sealed before the ring, without a header, open under a ring
// that holds their key wherever it stands in it: an upgrade loses nothing.
func TestValuesSealedBeforeTheRingStillOpen(t *testing.T) {
	master := NewMasterKey()
	key := generate(t, User)
	const secret = "discord-access-token-0123456789"
	binding := []byte("access\x00row")
	oldKey := sealBeforeTheRing(t, master, key, Hash(key))
	oldSecret := sealBeforeTheRing(t, master, secret, binding)
	for name, ring := range map[string]*Sealer{
		"the one key":      newRing(t, master),
		"the previous key": newRing(t, NewMasterKey(), master),
	} {
		if got, err := ring.Open(oldKey, Hash(key)); err != nil || got != key {
			t.Errorf("%s: Open = %d characters, %v; want the key", name, len(got), err)
		}
		if got, err := ring.OpenBound(oldSecret, binding); err != nil || got != secret {
			t.Errorf("%s: OpenBound = %d characters, %v; want the secret", name, len(got), err)
		}
	}
	if _, err := newRing(t, NewMasterKey()).Open(oldKey, Hash(key)); err == nil {
		t.Error("a ring without the value's key opened it")
	}
}

func TestNewRingRefuses(t *testing.T) {
	key := NewMasterKey()
	for name, ring := range map[string][][]byte{
		"no key":             nil,
		"a key twice":        {key, NewMasterKey(), key},
		"a short second key": {key, key[:16]},
	} {
		if _, err := NewRing(ring); err == nil {
			t.Errorf("%s: NewRing succeeded", name)
		} else if strings.Contains(err.Error(), EncodeMasterKey(key)) {
			t.Errorf("%s: error %q holds the key", name, err)
		}
	}
}

func TestIsMasterKeyKnowsTheRingsKeysByTheirTextForm(t *testing.T) {
	current, older, other := NewMasterKey(), NewMasterKey(), NewMasterKey()
	ring := newRing(t, current, older)
	padded := EncodeMasterKey(older)
	for name, tc := range map[string]struct {
		text string
		want bool
	}{
		"the current key":           {EncodeMasterKey(current), true},
		"an older key of the ring":  {padded, true},
		"unpadded":                  {strings.TrimRight(padded, "="), true},
		"a key not in the ring":     {EncodeMasterKey(other), false},
		"one character changed":     {"A" + padded[1:], padded[0] == 'A'},
		"a Discord token":           {"6qrZcUqja7812RVdnEKjpzOL4CvHBFG", false},
		"44 characters, not base64": {strings.Repeat("*", 44), false},
		"base64 of 31 bytes":        {EncodeMasterKey(current[:31]), false},
		"the key, raw":              {string(current), false},
		"empty":                     {"", false},
	} {
		if got := ring.IsMasterKey(tc.text); got != tc.want {
			t.Errorf("%s: IsMasterKey = %v, want %v", name, got, tc.want)
		}
	}
}
