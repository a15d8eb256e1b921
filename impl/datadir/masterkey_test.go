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
	tests := []struct {
		name    string
		env     string
		wantErr string
	}{
		{"standard base64", base64.StdEncoding.EncodeToString(want), ""},
		{"unpadded base64", base64.RawStdEncoding.EncodeToString(want), ""},
		{"trailing newline", base64.StdEncoding.EncodeToString(want) + "\n", ""},
		{"URL alphabet", base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), "not valid standard base64"},
		{"not base64", "this is not a key!", "not valid standard base64"},
		{"16 bytes", base64.StdEncoding.EncodeToString(want[:16]), "decodes to 16 bytes, want 32"},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(want, 0)), "decodes to 33 bytes, want 32"},
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
			if !bytes.Equal(got, want) {
				t.Errorf("LoadMasterKey = %x, want %x", got, want)
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
	if got, want := len(first), 32; got != want {
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
	if !bytes.Equal(first, second) {
		t.Error("second LoadMasterKey returned a different key")
	}
}

func TestLoadMasterKeyConcurrentFirstStart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	const n = 8
	var (
		wg      sync.WaitGroup
		got     [n][]byte
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
		if !bytes.Equal(got[i], got[0]) {
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
			if !bytes.Equal(got, want) {
				t.Errorf("LoadMasterKey = %x, want %x", got, want)
			}
		})
	}
}
