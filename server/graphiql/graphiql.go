// Package graphiql serves the GraphiQL IDE entirely from the Threadline
// binary: no third-party host is contacted, neither by the server nor by the
// browser.
//
// The production builds of react 18.3.1, react-dom 18.3.1 and graphiql 3.9.0
// are vendored from npm, unmodified, under assets/<package>-<version>/ next to
// each package's LICENSE, and embedded with go:embed. assets/init.js (which
// starts GraphiQL, so the page needs no inline script) and assets/page.css are
// Threadline's own.
//
// # Mounting
//
// The simplest form mounts one handler on a subtree; the page is served at the
// subtree's root (the URL must end in "/") and loads its assets relatively,
// from "assets/…" below it:
//
//	mux.Handle("GET /graphiql/", graphiql.Handler("Threadline", "/graphql"))
//	// page: /graphiql/   assets: /graphiql/assets/…
//
// To serve the page at a path that is not a subtree, such as the site root,
// give New an absolute asset prefix and mount the page and the assets apart:
//
//	ide := graphiql.New("Threadline", "/graphql", "/graphiql/")
//	mux.Handle("GET /{$}", ide.Page())
//	mux.Handle("GET /graphiql/assets/", ide.Assets())
//
// The asset handler serves the file named by what follows the last "assets/"
// segment of the request path, so it works with or without http.StripPrefix.
//
// # Caching and security headers
//
// Every asset URL the page references carries ?v=<content hash>; a request
// whose v matches the file gets "Cache-Control: public, max-age=31536000,
// immutable", any other request for the file gets "no-cache" (it still has an
// ETag). Assets are gzipped, once, in memory, for clients that accept it.
// The page itself is "no-cache" and carries a Content-Security-Policy that
// allows scripts and style sheets only from the page's own origin (plus one
// fixed inline style sheet of GraphiQL's, by its hash; see
// ContentSecurityPolicy) and lets the browser connect only to that origin, or
// to the endpoint's origin when the endpoint is an absolute URL.
//
// graphiql.min.js ends with a sourceMappingURL comment; the 4 MB source map is
// not vendored, so a browser's developer tools may log a 404 for it.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var assetFS embed.FS

// DefaultQuery is what the query editor shows on a first visit.
const DefaultQuery = `# Threadline's GraphQL API. To query as a
# signed-in user, add under Headers below:
#   {"Authorization": "Bearer <token>"}
{
  article(site: "demo", key: "social-credit") {
    title
    commentCount
    comments(first: 5) {
      edges {
        node {
          author {
            displayName
          }
          body
        }
      }
    }
  }
}
`

// ContentSecurityPolicy is the policy sent with the page, before the
// endpoint's origin is added to connect-src. GraphiQL 3.9 needs neither inline
// script nor eval nor 'unsafe-inline' styles: React and CodeMirror set styles
// through the CSSOM, which CSP does not restrict. Its fonts and a few images
// are data: URLs inside graphiql.min.css.
//
// The one inline style sheet it adds is react-remove-scroll-bar's scroll lock,
// injected while a dialog or menu is open. On this page (body margin 0, never
// scrolls, see page.css) its text is always the same, so style-src allows
// exactly that text by its hash (scrollLockStyle in the test). Were the hash
// ever to stop matching, the browser would only block that sheet, which
// changes nothing on this page, and log a CSP violation.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; " +
	"style-src 'self' '" + scrollLockStyleHash + "'; " +
	"font-src data:; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const scrollLockStyleHash = "sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc="

// The files the page loads, in order, relative to the assets directory.
const (
	reactJS    = "react-18.3.1/react.production.min.js"
	reactDOMJS = "react-dom-18.3.1/react-dom.production.min.js"
	graphiqlJS = "graphiql-3.9.0/graphiql.min.js"
	graphiqlCS = "graphiql-3.9.0/graphiql.min.css"
	pageCSS    = "page.css"
	initJS     = "init.js"
)

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

// IDE is a GraphiQL page and the assets it loads.
type IDE struct {
	page []byte
	csp  string
}

// Handler serves the GraphiQL page at the path it is mounted on, with its
// assets under prefix+"assets/": it is New(title, endpoint, "") mounted as a
// whole, to be used on a subtree such as "GET /graphiql/".
func Handler(title, endpoint string) http.Handler {
	return New(title, endpoint, "")
}

// New returns the GraphiQL IDE for the GraphQL endpoint (a same-origin path
// such as "/graphql", or an absolute URL), with the page titled title.
//
// The page loads its assets from assetPrefix+"assets/". assetPrefix is either
// "" (assets relative to the page, which must then be served at a URL ending
// in "/") or an absolute path that starts and ends with "/". New panics on any
// other prefix.
func New(title, endpoint, assetPrefix string) *IDE {
	if assetPrefix != "" && (!strings.HasPrefix(assetPrefix, "/") || !strings.HasSuffix(assetPrefix, "/")) {
		panic("graphiql: asset prefix must be empty or start and end with a slash: " + assetPrefix)
	}
	base := assetPrefix + "assets/"
	ref := func(name string) string { return base + name + "?v=" + assets[name].hash }

	var buf bytes.Buffer
	err := pageTemplate.Execute(&buf, map[string]any{
		"Title":        title,
		"Endpoint":     endpoint,
		"DefaultQuery": DefaultQuery,
		"Styles":       []string{ref(graphiqlCS), ref(pageCSS)},
		"Scripts":      []string{ref(reactJS), ref(reactDOMJS), ref(graphiqlJS), ref(initJS)},
	})
	if err != nil {
		panic("graphiql: " + err.Error())
	}

	csp := ContentSecurityPolicy
	if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		csp = strings.Replace(csp, "connect-src 'self'", "connect-src 'self' "+u.Scheme+"://"+u.Host, 1)
	}
	return &IDE{page: buf.Bytes(), csp: csp}
}

// ServeHTTP serves an asset when the path has an "assets/" segment, the page
// when the path is empty or ends in "/", and 404 otherwise.
func (ide *IDE) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case hasAssetsSegment(r.URL.Path):
		serveAsset(w, r)
	case r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/"):
		ide.servePage(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Page serves the GraphiQL page at whatever path it is mounted on.
func (ide *IDE) Page() http.Handler { return http.HandlerFunc(ide.servePage) }

// Assets serves the file named by what follows the last "assets/" segment of
// the request path, and 404 for anything else.
func (ide *IDE) Assets() http.Handler { return http.HandlerFunc(serveAsset) }

func (ide *IDE) servePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cacheNoCache)
	h.Set("Content-Security-Policy", ide.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(ide.page))
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{range .Styles}}<link rel="stylesheet" href="{{.}}">
{{end -}}
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}" data-default-query="{{.DefaultQuery}}">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript.</noscript>
{{range .Scripts}}<script src="{{.}}"></script>
{{end -}}
</body>
</html>
`))

// asset is one embedded file.
type asset struct {
	data        []byte
	hash        string // first 16 hex digits of the SHA-256 of data
	contentType string

	gzipOnce sync.Once
	gzipped  []byte // nil when gzip does not make it smaller
}

// assets maps a path below assets/ to its file.
var assets = func() map[string]*asset {
	m := map[string]*asset{}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		m[strings.TrimPrefix(p, "assets/")] = &asset{
			data:        data,
			hash:        hex.EncodeToString(sum[:8]),
			contentType: contentType(p),
		}
		return nil
	})
	if err != nil {
		panic("graphiql: " + err.Error())
	}
	return m
}()

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default: // the LICENSE files
		return "text/plain; charset=utf-8"
	}
}

// assetsSegment returns the index in p of its last "assets/" segment, or -1.
func assetsSegment(p string) int {
	i := strings.LastIndex(p, "assets/")
	for i > 0 && p[i-1] != '/' {
		i = strings.LastIndex(p[:i], "assets/")
	}
	return i
}

func hasAssetsSegment(p string) bool { return assetsSegment(p) >= 0 }

// assetName returns what follows the last "assets/" segment of p if it names
// an embedded file, and "" otherwise.
func assetName(p string) string {
	i := assetsSegment(p)
	if i < 0 {
		return ""
	}
	name := p[i+len("assets/"):]
	if _, ok := assets[name]; !ok {
		return ""
	}
	return name
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := assetName(r.URL.Path)
	if name == "" {
		http.NotFound(w, r)
		return
	}
	a := assets[name]
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == a.hash {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheNoCache)
	}
	body, etag := a.data, `"`+a.hash+`"`
	if gz := a.gzip(); gz != nil && acceptsGzip(r) {
		body, etag = gz, `"`+a.hash+`.gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(a.data)
		zw.Close()
		if buf.Len() < len(a.data) {
			a.gzipped = buf.Bytes()
		}
	})
	return a.gzipped
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
