package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// srcRE finds every URL the page loads: script src and link href.
var srcRE = regexp.MustCompile(`(?:src|href)="([^"]*)"`)

func get(t *testing.T, h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// pageRefs checks the page's headers and returns the asset URLs it references.
func pageRefs(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	if w.Code != 200 {
		t.Fatalf("page: status %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("page: Content-Type %q", ct)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page: Cache-Control %q", cc)
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self' '" + scrollLockStyleHash + "';", "connect-src 'self';"} {
		if !strings.Contains(csp, want) {
			t.Errorf("page: CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("page: CSP %q allows unsafe sources", csp)
	}
	body := w.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "<style") || strings.Contains(body, " style=") {
		t.Errorf("page has inline script or style; the CSP would block it")
	}
	var refs []string
	for _, m := range srcRE.FindAllStringSubmatch(body, -1) {
		refs = append(refs, m[1])
	}
	if len(refs) != 6 {
		t.Errorf("page references %d URLs, want 6 (2 style sheets, 4 scripts): %q", len(refs), refs)
	}
	return refs
}

// checkAsset fetches ref (resolved against pageURL) from h and checks it.
func checkAsset(t *testing.T, h http.Handler, pageURL, ref string) {
	t.Helper()
	u, err := url.Parse(ref)
	if err != nil {
		t.Fatalf("bad URL %q: %v", ref, err)
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(ref, "//") {
		t.Errorf("asset URL %q is not same-origin", ref)
		return
	}
	abs := must(url.Parse(pageURL)).ResolveReference(u)
	w := get(t, h, abs.RequestURI())
	if w.Code != 200 {
		t.Errorf("%s: status %d", abs, w.Code)
		return
	}
	want := "text/javascript; charset=utf-8"
	if strings.HasSuffix(u.Path, ".css") {
		want = "text/css; charset=utf-8"
	}
	if ct := w.Header().Get("Content-Type"); ct != want {
		t.Errorf("%s: Content-Type %q, want %q", abs, ct, want)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("%s: Cache-Control %q", abs, cc)
	}
	if w.Body.Len() == 0 {
		t.Errorf("%s: empty body", abs)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The single handler, mounted on a subtree as the package doc shows.
func TestHandlerOnSubtree(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("GET /graphiql/", Handler("Threadline", "/graphql"))

	w := get(t, mux, "/graphiql/")
	body := w.Body.String()
	for _, want := range []string{
		"<title>Threadline</title>",
		`data-endpoint="/graphql"`,
		`article(site: &#34;demo&#34;, key: &#34;social-credit&#34;)`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	refs := pageRefs(t, w)
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "assets/") {
			t.Errorf("asset URL %q is not relative to the page", ref)
		}
		checkAsset(t, mux, "http://example.test/graphiql/", ref)
	}

	for _, p := range []string{
		"/graphiql/assets/missing.js",
		"/graphiql/assets/",
		"/graphiql/assets/react-18.3.1/",
		"/graphiql/graphiql.go",
		"/graphiql/other",
	} {
		if w := get(t, mux, p); w.Code != 404 {
			t.Errorf("GET %s: status %d, want 404", p, w.Code)
		}
	}
	// Unclean paths never reach a handler through a ServeMux; directly they 404.
	for _, p := range []string{"/assets/../graphiql.go", "/assets/./init.js", "/assets//init.js"} {
		if w := get(t, Handler("T", "/graphql"), p); w.Code != 404 {
			t.Errorf("GET %s: status %d, want 404", p, w.Code)
		}
	}
}

// The page at the site root with the assets elsewhere, as the package doc shows.
func TestPageAndAssetsApart(t *testing.T) {
	ide := New("Threadline", "/graphql", "/graphiql/")
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", ide.Page())
	mux.Handle("GET /graphiql/assets/", ide.Assets())

	refs := pageRefs(t, get(t, mux, "/"))
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "/graphiql/assets/") {
			t.Errorf("asset URL %q is not under /graphiql/assets/", ref)
		}
		checkAsset(t, mux, "http://example.test/", ref)
	}
	if w := get(t, mux, "/graphiql/assets/nope.css"); w.Code != 404 {
		t.Errorf("missing asset: status %d, want 404", w.Code)
	}

	// Behind http.StripPrefix the asset handler sees "assets/…" and still works.
	strip := http.StripPrefix("/graphiql/", ide.Assets())
	if w := get(t, strip, "/graphiql/assets/init.js"); w.Code != 200 {
		t.Errorf("asset behind StripPrefix: status %d", w.Code)
	}
}

func TestAssetCaching(t *testing.T) {
	h := Handler("T", "/graphql")
	a := assets[initJS]

	// Without the matching version the file is served but must be revalidated.
	w := get(t, h, "/assets/init.js")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("unversioned: status %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
	w = get(t, h, "/assets/init.js?v=0000")
	if w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("wrong version: Cache-Control %q", w.Header().Get("Cache-Control"))
	}
	etag := w.Header().Get("ETag")
	if etag != `"`+a.hash+`"` {
		t.Errorf("ETag %q", etag)
	}
	if w := get(t, h, "/assets/init.js", "If-None-Match", etag); w.Code != 304 {
		t.Errorf("If-None-Match: status %d, want 304", w.Code)
	}
	if !bytes.Equal(w.Body.Bytes(), a.data) {
		t.Errorf("body differs from the embedded file")
	}
}

func TestAssetGzip(t *testing.T) {
	h := Handler("T", "/graphql")
	a := assets[graphiqlJS]
	target := "/assets/" + graphiqlJS + "?v=" + a.hash

	w := get(t, h, target, "Accept-Encoding", "gzip, deflate, br")
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: Content-Encoding %q", w.Header().Get("Content-Encoding"))
	}
	if w.Header().Get("Vary") != "Accept-Encoding" {
		t.Errorf("Vary %q", w.Header().Get("Vary"))
	}
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, a.data) {
		t.Errorf("gunzipped body differs from the embedded file (err %v)", err)
	}

	for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
		w := get(t, h, target, "Accept-Encoding", ae)
		if w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), a.data) {
			t.Errorf("Accept-Encoding %q: got Content-Encoding %q", ae, w.Header().Get("Content-Encoding"))
		}
	}
}

func TestCrossOriginEndpoint(t *testing.T) {
	w := get(t, New("T", "https://api.example.test/graphql", "/x/").Page(), "/")
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://api.example.test;") {
		t.Errorf("CSP %q does not allow the endpoint's origin", csp)
	}
}

func TestNewRejectsBadPrefix(t *testing.T) {
	for _, p := range []string{"graphiql/", "/graphiql", "x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New with prefix %q did not panic", p)
				}
			}()
			New("T", "/graphql", p)
		}()
	}
}

func TestTitleAndEndpointEscaped(t *testing.T) {
	w := get(t, Handler(`<script>x</script>`, `/g"ql`), "/")
	body := w.Body.String()
	if strings.Contains(body, "<script>x") || strings.Contains(body, `/g"ql`) {
		t.Errorf("title or endpoint not escaped:\n%s", body)
	}
}

// scrollLockStyle is the text of the <style> that GraphiQL 3.9.0's bundled
// react-remove-scroll-bar adds while a dialog is open, as Chromium saw it on
// this page (any window size).
const scrollLockStyle = "\n  .with-scroll-bars-hidden {\n   overflow: hidden !important;\n   padding-right: 0px !important;\n  }\n  body {\n    overflow: hidden !important;\n    overscroll-behavior: contain;\n    position: relative !important;\n    padding-left: 0px;\n    padding-top: 0px;\n    padding-right: 0px;\n    margin-left:0;\n    margin-top:0;\n    margin-right: 0px !important;\n    \n  }\n  \n  .right-scroll-bar-position {\n    right: 0px !important;\n  }\n  \n  .width-before-scroll-bar {\n    margin-right: 0px !important;\n  }\n  \n  .right-scroll-bar-position .right-scroll-bar-position {\n    right: 0 !important;\n  }\n  \n  .width-before-scroll-bar .width-before-scroll-bar {\n    margin-right: 0 !important;\n  }\n  \n  body {\n    --removed-body-scroll-bar-size: 0px;\n  }\n"

func TestScrollLockStyleHash(t *testing.T) {
	sum := sha256.Sum256([]byte(scrollLockStyle))
	if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != scrollLockStyleHash {
		t.Errorf("scroll-lock style hashes to %s, CSP allows %s", got, scrollLockStyleHash)
	}
	// The bundle still builds that sheet (if GraphiQL is upgraded, recheck the hash).
	js := string(assets[graphiqlJS].data)
	for _, frag := range []string{"with-scroll-bars-hidden", "--removed-body-scroll-bar-size"} {
		if !strings.Contains(js, frag) {
			t.Errorf("graphiql.min.js no longer contains %q: recheck scrollLockStyleHash", frag)
		}
	}
}

// TestPageReflectsNothing: the page is built once, from the handler's settings; nothing of the request (path,
// query, headers) reaches it.
func TestPageReflectsNothing(t *testing.T) {
	ide := New("Threadline", "/graphql", "/graphiql/")
	plain := get(t, ide.Page(), "/").Body.String()
	hostileQuery := "/?query=" + url.QueryEscape(`"><script>alert(1)</script>`) + "&x=%3Csvg%20onload%3Dalert(1)%3E"
	got := get(t, ide.Page(), hostileQuery, "Referer", `https://e.example/"><script>`, "User-Agent", "<script>").Body.String()
	if got != plain {
		t.Errorf("the page changed with the request:\n%s", got)
	}
}
