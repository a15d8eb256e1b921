package docs

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A bare transport: no transparent gzip, no redirects followed.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var (
	specURLAttr = regexp.MustCompile(`data-spec-url="([^"]*)"`)
	nonceAttr   = regexp.MustCompile(`data-nonce="([^"]*)"`)
	scriptTag   = regexp.MustCompile(`<script[^>]*>`)
	assetRef    = regexp.MustCompile(`(?:src|href)="(docs/assets/[^"]*)"`)
	docLink     = regexp.MustCompile(`href="(docs\?doc=[^"]*)"`)
)

// resolve resolves a URL of the page as the browser does, against /docs.
func resolve(t *testing.T, ref string) string {
	t.Helper()
	base, _ := url.Parse("http://apikeyd.test/docs")
	u, err := base.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func TestPageShowsEachDocument(t *testing.T) {
	srv := serve(t)
	for _, tc := range []struct{ path, spec string }{
		{"/docs", "/openapi/v1.yaml"},
		{"/docs?doc=v1", "/openapi/v1.yaml"},
		{"/docs?doc=apikeys", "/openapi/apikeys.yaml"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, srv, tc.path)
			page := string(body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200:\n%s", resp.StatusCode, page)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			m := specURLAttr.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no data-spec-url in the page:\n%s", page)
			}
			if got := resolve(t, m[1]); got != tc.spec {
				t.Errorf("the page renders %s (%q), want %s", got, m[1], tc.spec)
			}
			// The header links both documents' pages.
			var links []string
			for _, l := range docLink.FindAllStringSubmatch(page, -1) {
				links = append(links, resolve(t, strings.ReplaceAll(l[1], "&amp;", "&")))
			}
			if want := []string{"/docs?doc=v1", "/docs?doc=apikeys"}; strings.Join(links, " ") != strings.Join(want, " ") {
				t.Errorf("links to documents %q, want %q", links, want)
			}
			if !strings.Contains(page, `aria-current="page">`+map[string]string{
				"/openapi/v1.yaml": "/v1", "/openapi/apikeys.yaml": "/apiKeys"}[tc.spec]+`<`) {
				t.Errorf("the current document's link is not marked")
			}
			for _, s := range []string{"docs/assets/redoc.standalone.js", "docs/assets/docs.js", "docs/assets/docs.css"} {
				if !strings.Contains(page, `"`+s+`"`) {
					t.Errorf("the page does not load %s", s)
				}
			}
		})
	}
}

func TestPageHasAStrictContentSecurityPolicy(t *testing.T) {
	srv := serve(t)
	resp, body := get(t, srv, "/docs")
	page := string(body)
	csp := resp.Header.Get("Content-Security-Policy")
	nonce := nonceAttr.FindStringSubmatch(page)
	if nonce == nil || len(nonce[1]) < 22 {
		t.Fatalf("no nonce of 128 bits or more in the page: %v", nonce)
	}
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	want := map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self' 'nonce-" + nonce[1] + "'",
		"img-src":         "'self' data:",
		"font-src":        "'self'",
		"connect-src":     "'self'",
		"base-uri":        "'none'",
		"form-action":     "'none'",
		"frame-ancestors": "'none'",
	}
	for name, value := range want {
		if directives[name] != value {
			t.Errorf("CSP %s = %q, want %q (CSP %q)", name, directives[name], value, csp)
		}
	}
	if len(directives) != len(want) {
		t.Errorf("CSP has other directives than %v: %q", want, csp)
	}
	for _, h := range [][2]string{{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}, {"Referrer-Policy", "no-referrer"}} {
		if got := resp.Header.Get(h[0]); got != h[1] {
			t.Errorf("%s: %q, want %q", h[0], got, h[1])
		}
	}
	// script-src 'self' allows no inline script: every script is a file.
	for _, tag := range scriptTag.FindAllString(page, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("inline script %s", tag)
		}
	}
	if strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Errorf("inline style in the page")
	}
	// Nothing from elsewhere.
	if strings.Contains(page, "//") {
		t.Errorf("the page names another origin:\n%s", page)
	}

	_, again := get(t, srv, "/docs")
	if n2 := nonceAttr.FindStringSubmatch(string(again)); n2 == nil || n2[1] == nonce[1] {
		t.Errorf("the nonce is the same on two responses: %q", nonce[1])
	}
}

func TestPageAssetsAreServed(t *testing.T) {
	srv := serve(t)
	_, body := get(t, srv, "/docs")
	refs := assetRef.FindAllStringSubmatch(string(body), -1)
	if len(refs) != 3 {
		t.Fatalf("the page loads %d assets, want 3: %q", len(refs), refs)
	}
	wantType := map[string]string{
		"/docs/assets/redoc.standalone.js": "text/javascript; charset=utf-8",
		"/docs/assets/docs.js":             "text/javascript; charset=utf-8",
		"/docs/assets/docs.css":            "text/css; charset=utf-8",
	}
	for _, ref := range refs {
		path := resolve(t, ref[1])
		resp, got := get(t, srv, path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", path, resp.StatusCode)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != wantType[path] {
			t.Errorf("GET %s: Content-Type %q, want %q", path, ct, wantType[path])
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
		want, err := embedded.ReadFile("assets/" + strings.TrimPrefix(path, "/docs/assets/"))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("GET %s: not the embedded file (%v)", path, err)
		}
	}
}

func TestScriptIsCompressedAndRevalidated(t *testing.T) {
	srv := serve(t)
	const path = "/docs/assets/redoc.standalone.js"
	want, err := embedded.ReadFile("assets/redoc.standalone.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(want[:400], []byte("exports.Redoc=")) {
		t.Fatalf("assets/redoc.standalone.js does not look like Redoc's bundle: %.400q", want)
	}

	resp, body := get(t, srv, path, "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d, Content-Encoding %q; want 200 gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, want) {
		t.Fatalf("gzipped body is not the bundle (%v)", err)
	}
	if len(body) > len(want)/2 {
		t.Errorf("gzip: %d bytes of %d", len(body), len(want))
	}
	if v := resp.Header.Get("Vary"); v != "Accept-Encoding" {
		t.Errorf("Vary %q", v)
	}

	resp, body = get(t, srv, path, "Accept-Encoding", "gzip;q=0")
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, want) {
		t.Errorf("gzip;q=0: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	resp, body = get(t, srv, path, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes; want 304", resp.StatusCode, len(body))
	}
}

func TestOtherRequests(t *testing.T) {
	srv := serve(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/docs?doc=nope", http.StatusNotFound},
		{"GET", "/docs/", http.StatusMovedPermanently},
		{"GET", "/docs/assets/nope.js", http.StatusNotFound},
		{"GET", "/docs/assets/redoc.version", http.StatusNotFound},
		{"GET", "/docs/assets/", http.StatusNotFound},
		{"HEAD", "/docs", http.StatusOK},
		{"HEAD", "/docs/assets/docs.js", http.StatusOK},
		{"POST", "/docs", http.StatusMethodNotAllowed},
		{"DELETE", "/docs/assets/docs.js", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := (&http.Transport{}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if tc.status == http.StatusMovedPermanently && resp.Header.Get("Location") != "/docs" {
			t.Errorf("%s %s: Location %q, want /docs", tc.method, tc.path, resp.Header.Get("Location"))
		}
	}
}

// TestAssetsAreThePinnedRedoc fails when impl/docs/assets/ is not what
// .ci/docs-assets copies from the redoc version that tools/package.json
// pins. Without tools/node_modules (a fresh clone before npm ci) it checks
// the version only; `.ci/docs-assets --check` checks the bytes in CI.
func TestAssetsAreThePinnedRedoc(t *testing.T) {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	readJSON(t, filepath.Join("..", "..", "tools", "package.json"), &pkg)
	pinned := pkg.DevDependencies["redoc"]
	if pinned == "" {
		t.Fatal("tools/package.json pins no redoc")
	}
	version, err := fs.ReadFile(embedded, "assets/redoc.version")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(version)); got != pinned {
		t.Fatalf("impl/docs/assets holds redoc %s, tools/package.json pins %s: run .ci/docs-assets", got, pinned)
	}
	license, err := fs.ReadFile(embedded, "assets/redoc.standalone.js.LICENSE.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(license), `Version: "`+pinned+`"`) {
		t.Errorf("assets/redoc.standalone.js.LICENSE.txt is not redoc %s's", pinned)
	}

	modules := filepath.Join("..", "..", "tools", "node_modules", "redoc")
	var installed struct{ Version string }
	if err := readJSONIfExists(filepath.Join(modules, "package.json"), &installed); err != nil {
		t.Skipf("tools/node_modules has no redoc (%v): compared the version only", err)
	}
	if installed.Version != pinned {
		t.Skipf("tools/node_modules holds redoc %s, not the pinned %s (run npm ci in tools): compared the version only", installed.Version, pinned)
	}
	for from, to := range map[string]string{
		"bundles/redoc.standalone.js":             "redoc.standalone.js",
		"bundles/redoc.standalone.js.LICENSE.txt": "redoc.standalone.js.LICENSE.txt",
		"LICENSE": "redoc.LICENSE.txt",
	} {
		want, err := os.ReadFile(filepath.Join(modules, filepath.FromSlash(from)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.ReadFile(embedded, "assets/"+to)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("impl/docs/assets/%s is not tools/node_modules/redoc/%s: run .ci/docs-assets", to, from)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readJSONIfExists(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.Join(errors.New(path), err)
	}
	return nil
}
