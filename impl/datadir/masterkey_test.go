package datadir

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadMasterKeyFromEnv(t *testing.T) {
	want := bytes.Repeat([]byte{0xa5}, 32)
	previous := bytes.Repeat([]byte{0x5a}, 32)
	tests := []struct {
		name     string
		env      string
		previous bool // the ring holds previous after want
		wantErr  string
	}{
		{"standard base64", base64.StdEncoding.EncodeToString(want), false, ""},
		{"unpadded base64", base64.RawStdEncoding.EncodeToString(want), false, ""},
		{"trailing newline", base64.StdEncoding.EncodeToString(want) + "\n", false, ""},
		{"a ring, commas", base64.StdEncoding.EncodeToString(want) + "," + base64.StdEncoding.EncodeToString(previous), true, ""},
		{"a ring, spaces around", " " + base64.StdEncoding.EncodeToString(want) + " , " + base64.StdEncoding.EncodeToString(previous) + ",", true, ""},
		{"a ring, newlines", base64.StdEncoding.EncodeToString(want) + "\n" + base64.StdEncoding.EncodeToString(previous) + "\n", true, ""},
		{"URL alphabet", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), false, "not valid standard base64"},
		{"not base64", "this is not a key!", false, "not valid standard base64"},
		{"16 bytes", base64.StdEncoding.EncodeToString(want[:16]), false, "decodes to 16 bytes, want 32"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(want, 0)), false, "decodes to 33 bytes, want 32"},
		{"second key of the ring bad", base64.StdEncoding.EncodeToString(want) + ",not-a-key", false, "key 2 of the ring: not valid standard base64"},
		{"only commas", ",,", false, "holds no master key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			got, created, err := LoadMasterKey(tt.env, dataDir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadMasterKey error = %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "load master key: APIKEYD_MASTER_KEY: ") {
					t.Errorf("LoadMasterKey error %q does not name its source", err)
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tt.env)) {
					t.Errorf("LoadMasterKey error %q quotes the variable's value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadMasterKey: %v", err)
			}
			wantRing := [][]byte{want}
			if tt.previous {
				wantRing = append(wantRing, previous)
			}
			if !sameRing(got, wantRing) {
				t.Errorf("LoadMasterKey = %x, want %x", got, wantRing)
			}
			if created {
				t.Error("LoadMasterKey reported created for a key from the environment")
			}
			if _, err := os.Stat(filepath.Join(dataDir, "master.key")); !os.IsNotExist(err) {
				t.Errorf("LoadMasterKey touched master.key although the variable was set: %v", err)
			}
		})
	}
}

func TestLoadMasterKeyGeneratesOnceAndReuses(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	first, created, err := LoadMasterKey("", dataDir)
	if err != nil {
		t.Fatalf("first LoadMasterKey: %v", err)
	}
	if !created {
		t.Error("first LoadMasterKey did not report created")
	}
	if len(first) != 1 {
		t.Fatalf("generated a ring of %d keys, want 1", len(first))
	}
	if got, want := len(first[0]), 32; got != want {
		t.Fatalf("len(key) = %d, want %d", got, want)
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]os.FileMode{
			dataDir:                              0o700,
			filepath.Join(dataDir, "master.key"): 0o600,
		} {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != want {
				t.Errorf("mode of %s = %#o, want %#o", path, got, want)
			}
		}
	}

	second, created, err := LoadMasterKey("", dataDir)
	if err != nil {
		t.Fatalf("second LoadMasterKey: %v", err)
	}
	if created {
		t.Error("second LoadMasterKey reported created")
	}
	if !sameRing(first, second) {
		t.Error("second LoadMasterKey returned a different key")
	}
}

func TestLoadMasterKeyConcurrentFirstStart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	const n = 8
	var (
		wg      sync.WaitGroup
		got     [n][][]byte
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Go(func() { got[i], created[i], errs[i] = LoadMasterKey("", dataDir) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("LoadMasterKey %d: %v", i, errs[i])
		}
		if !sameRing(got[i], got[0]) {
			t.Errorf("LoadMasterKey %d returned a different key", i)
		}
		if created[i] {
			creators++
		}
	}
	if got, want := creators, 1; got != want {
		t.Errorf("%d calls reported created, want %d", got, want)
	}
}

func TestLoadMasterKeyFromFile(t *testing.T) {
	want := bytes.Repeat([]byte{0x3c}, 32)
	previous := bytes.Repeat([]byte{0xc3}, 32)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
	}{
		{"with newline", base64.StdEncoding.EncodeToString(want) + "\n", 0o600, ""},
		{"without newline", base64.StdEncoding.EncodeToString(want), 0o600, ""},
		{"owner read-only", base64.StdEncoding.EncodeToString(want), 0o400, ""},
		{"group readable", base64.StdEncoding.EncodeToString(want), 0o640, "chmod 600"},
		{"world readable", base64.StdEncoding.EncodeToString(want), 0o644, "chmod 600"},
		{"group writable", base64.StdEncoding.EncodeToString(want), 0o620, "chmod 600"},
		{"empty", "", 0o600, "empty"},
		{"not base64", "not a key\n", 0o600, "not valid standard base64"},
		{"wrong length", base64.StdEncoding.EncodeToString(want[:24]), 0o600, "decodes to 24 bytes"},
		{"a ring, the current key first", base64.StdEncoding.EncodeToString(want) + "\n" + base64.StdEncoding.EncodeToString(previous) + "\n", 0o600, ""},
		{"a ring with a bad key", base64.StdEncoding.EncodeToString(want) + "\nnot a key\n", 0o600, "key 2 of the ring: not valid standard base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode != 0o600 {
				t.Skip("Windows has no Unix permission bits")
			}
			dataDir := t.TempDir()
			path := filepath.Join(dataDir, "master.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // not subject to umask
				t.Fatal(err)
			}
			got, created, err := LoadMasterKey("", dataDir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadMasterKey error = %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "load master key: ") {
					t.Errorf("LoadMasterKey error %q lacks its context", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadMasterKey: %v", err)
			}
			if created {
				t.Error("LoadMasterKey reported created for an existing file")
			}
			wantRing := [][]byte{want}
			if strings.Count(strings.TrimSpace(tt.content), "\n") == 1 {
				wantRing = append(wantRing, previous)
			}
			if !sameRing(got, wantRing) {
				t.Errorf("LoadMasterKey = %x, want %x", got, wantRing)
			}
		})
	}
}

func sameRing(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// A ring written to master.key reads back whole, in its order.
func TestWriteMasterKeyFileKeepsTheRing(t *testing.T) {
	ring := [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)}
	path := filepath.Join(t.TempDir(), "master.key")
	if err := WriteMasterKeyFile(path, ring); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMasterKeyFile(path)
	if err != nil || !sameRing(got, ring) {
		t.Fatalf("ReadMasterKeyFile = %x, %v; want %x", got, err, ring)
	}
}
