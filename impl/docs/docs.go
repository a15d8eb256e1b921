// Package docs serves GET /docs: an API reference page for each of the two
// OpenAPI documents, rendered in the browser by Redoc. Redoc's standalone
// bundle is embedded in the binary (assets/, refreshed from the version
// pinned in tools/package.json by .ci/docs-assets), so the page loads
// nothing from anywhere but this server, and its Content-Security-Policy
// says so.
//
//	GET /docs                   the /v1 document (openapi/v1.yaml)
//	GET /docs?doc=apikeys       the /apiKeys document (openapi/apikeys.yaml)
//	GET /docs/assets/{file}     the embedded scripts and style sheet
//
// The page links its assets and the documents by relative URLs, so it also
// works behind a proxy that serves apikeyd under a path prefix.
package docs

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var embedded embed.FS

// document is one OpenAPI document the page can show.
type document struct {
	Key   string // the value of ?doc=
	Title string // what the page calls it
	URL   string // where apikeyd serves it, relative to /docs
}

// documents are the documents /docs shows, the default first.
var documents = []document{
	{Key: "v1", Title: "/v1", URL: "openapi/v1.yaml"},
	{Key: "apikeys", Title: "/apiKeys", URL: "openapi/apikeys.yaml"},
}

// contentSecurityPolicy allows scripts, style sheets, images, fonts and
// fetches from this server only, and nothing else: no inline script, no
// eval, no frames, no workers. Redoc's CSS-in-JS adds <style> elements,
// which carry the page's nonce (Redoc's `nonce` option), and draws its
// link icons as data: images, which cannot run script. Three things Redoc
// tries are refused, harmlessly: its search worker, from a blob: URL
// (search is off, see docs.js); perfect-scrollbar's style sheet, added
// before the nonce is known (native scroll bars are on instead); and the
// Redocly logo in the side menu, from cdn.redoc.ly, which hides itself
// when it fails to load.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-%s'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const pageText = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>apikeyd {{.Doc.Title}} API reference</title>
<link rel="stylesheet" href="docs/assets/docs.css">
</head>
<body>
<header class="docs-header">
<span class="docs-brand">apikeyd API reference</span>
<nav aria-label="Documents">
{{- range .Docs}}
<a href="docs?doc={{.Key}}"{{if eq .Key $.Doc.Key}} aria-current="page"{{end}}>{{.Title}}</a>
{{- end}}
</nav>
<a class="docs-source" href="{{.Doc.URL}}">{{.Doc.URL}}</a>
</header>
<main id="redoc" data-spec-url="{{.Doc.URL}}" data-nonce="{{.Nonce}}">
<noscript><p>This page needs JavaScript. The document itself is at <a href="{{.Doc.URL}}">{{.Doc.URL}}</a>.</p></noscript>
</main>
<script src="docs/assets/redoc.standalone.js"></script>
<script src="docs/assets/docs.js"></script>
</body>
</html>
`

// Handler serves /docs and /docs/assets/. Mount it at both "/docs" and
// "/docs/"; methods other than GET and HEAD get 405.
func Handler() http.Handler {
	assets := loadAssets()
	// The page is parsed at its first request, not at start: a server whose
	// docs are never read runs none of html/template's parser and keeps no
	// parsed tree (issue #15, idle memory).
	page := sync.OnceValues(func() (*template.Template, error) { return template.New("page").Parse(pageText) })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) { servePage(w, r, page) })
	// A trailing slash would make the page's relative URLs point elsewhere.
	mux.Handle("GET /docs/{$}", http.RedirectHandler("../docs", http.StatusMovedPermanently))
	mux.HandleFunc("GET /docs/assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.PathValue("file")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r)
	})
	return mux
}

func servePage(w http.ResponseWriter, r *http.Request, page func() (*template.Template, error)) {
	doc, ok := documents[0], true
	if key := r.URL.Query().Get("doc"); key != "" {
		doc, ok = lookup(key)
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if !ok {
		h.Set("Cache-Control", "no-store")
		var keys []string
		for _, d := range documents {
			keys = append(keys, "?doc="+d.Key)
		}
		http.Error(w, "No such document: try "+strings.Join(keys, " or ")+".", http.StatusNotFound)
		return
	}
	nonce := newNonce()
	var body bytes.Buffer
	tmpl, err := page()
	if err == nil {
		err = tmpl.Execute(&body, struct {
			Doc   document
			Docs  []document
			Nonce string
		}{doc, documents, nonce})
	}
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", strings.Replace(contentSecurityPolicy, "%s", nonce, 1))
	// The nonce is new on each response: never reuse a stored page.
	h.Set("Cache-Control", "no-store")
	w.Write(body.Bytes())
}

func lookup(key string) (document, bool) {
	for _, d := range documents {
		if d.Key == key {
			return d, true
		}
	}
	return document{}, false
}

func newNonce() string {
	b := make([]byte, 18)
	rand.Read(b) // never fails (crypto/rand, Go 1.24 and later)
	return base64.RawURLEncoding.EncodeToString(b)
}

// asset is one embedded file, served with a strong ETag (so that a reload
// costs a 304) and, when the client takes it, gzip, made on first use.
type asset struct {
	name        string
	contentType string
	// content and gzipped are made at the first request for the asset,
	// not at start: Redoc's bundle is a megabyte that a server which is
	// never asked for its docs should neither copy onto its heap nor page
	// in from its binary.
	content func() assetContent
	gzipped func() []byte
}

// assetContent is an asset's body and the ETag of its bytes.
type assetContent struct {
	body []byte
	etag string
}

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

// loadAssets lists assets/ once; each file is read at its first request.
// Files of other types than those in contentTypes are not served.
func loadAssets() map[string]*asset {
	out := map[string]*asset{}
	entries, err := fs.ReadDir(embedded, "assets")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	for _, e := range entries {
		ct, ok := contentTypes[path.Ext(e.Name())]
		if e.IsDir() || !ok {
			continue
		}
		name := "assets/" + e.Name()
		content := sync.OnceValue(func() assetContent {
			body, err := embedded.ReadFile(name)
			if err != nil {
				panic(err) // listed by ReadDir above: cannot happen
			}
			sum := sha256.Sum256(body)
			return assetContent{body: body, etag: hex.EncodeToString(sum[:16])}
		})
		a := &asset{name: e.Name(), contentType: ct, content: content}
		a.gzipped = sync.OnceValue(func() []byte {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(content().body)
			zw.Close()
			return buf.Bytes()
		})
		out[e.Name()] = a
	}
	return out
}

func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	// Revalidate every time: the same URL serves a new bundle after an
	// upgrade of apikeyd, and the answer is a 304 until then.
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	c := a.content()
	body, etag := c.body, c.etag
	if acceptsGzip(r) && len(c.body) > 1024 {
		body, etag = a.gzipped(), etag+"-gzip"
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether Accept-Encoding lists gzip without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
