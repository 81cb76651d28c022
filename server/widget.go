package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/threadline/threadline/thread"
	"github.com/threadline/threadline/widget"
	"github.com/threadline/threadline/widget/assets"
)

// embedPrefix is where the widget's pages and assets live.
const embedPrefix = "/embed"

// widgetResources resolves go-app's resource paths below /embed, with the content hash in the URLs of the
// widget's own assets so that they can be cached for a year.
type widgetResources struct{}

func (widgetResources) Resolve(location string) string {
	switch {
	case strings.HasPrefix(location, "https://") || strings.HasPrefix(location, "http://"):
		return location
	case strings.HasPrefix(location, "/web/"):
		return assets.Path(embedPrefix, strings.TrimPrefix(location, "/web/"))
	case location == "/" || location == "":
		return embedPrefix
	}
	return embedPrefix + "/" + strings.TrimPrefix(location, "/")
}

// noopServiceWorker replaces go-app's caching service worker: in a third-party iframe its cache is partitioned
// per embedding site, and a cache-first worker in front of the API only adds risk. It removes itself.
const noopServiceWorker = `self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.registration.unregister()));
`

// frameScript runs in the thread page before anything else: it applies the theme the embedding page asked
// for, and tells the embedding page the height of the thread on every change, before the WebAssembly starts
// and after, so that embed.js sizes the iframe to it. It is the page's one inline script, allowed by its hash
// (see threadPagePolicy).
const frameScript = `
(function () {
  var theme = new URLSearchParams(location.search).get("theme");
  if (theme === "light" || theme === "dark") document.documentElement.setAttribute("data-theme", theme);
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h !== last) { last = h; window.parent.postMessage({ type: "threadline:resize", height: h }, "*"); }
  }
  new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
})();
`

// threadPagePolicy is the Content-Security-Policy of the thread page, before its frame-ancestors. Scripts run
// only from Threadline's own files and the frame script (by its hash), and no inline event handler runs: text
// that ever got into the page as markup could not run. 'wasm-unsafe-eval' lets the WebAssembly compile (it
// does not allow eval); connect-src 'self' covers the API and its WebSocket on the same host. go-app sets no
// inline styles; the manifest and the service worker that removes itself are its own.
var threadPagePolicy = "default-src 'none'; " +
	"script-src 'self' '" + scriptHash(frameScript) + "' 'wasm-unsafe-eval'; " +
	"style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; " +
	"base-uri 'none'; form-action 'none'"

// scriptHash is the CSP source that allows the inline script with this text.
func scriptHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// widgetHandler serves the thread page (/embed/thread), prerendered with the first view read through api,
// and the widget's assets.
func widgetHandler(svc *thread.Service, api http.Handler, log *slog.Logger) http.Handler {
	widget.Register()
	page := &app.Handler{
		Name:                  "Threadline",
		ShortName:             "Threadline",
		Title:                 "Comments",
		Description:           "Comments, by Threadline",
		Lang:                  "en",
		Icon:                  app.Icon{Default: "/web/icon.svg", SVG: "/web/icon.svg"},
		Styles:                []string{"/web/thread.css"},
		RawHeaders:            []string{"<script>" + frameScript + "</script>"},
		Resources:             widgetResources{},
		Version:               assets.Version(),
		ServiceWorkerTemplate: noopServiceWorker,
		LoadingLabel:          " ",
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+embedPrefix+"/web/", assets.Handler(embedPrefix))
	goapp := http.StripPrefix(embedPrefix, page)
	mux.HandleFunc("GET "+embedPrefix+widget.ThreadPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		site, article := q.Get("site"), q.Get("article")
		t, err := firstView(r.Context(), api, site, article)
		if err != nil && site != "" && article != "" {
			// A page's first embed creates its article, if the site lets that page embed its threads; a refusal
			// shows as the page's "could not be loaded".
			if _, err = svc.EmbedArticle(r.Context(), site, article, q.Get("title"), q.Get("url"), embeddingOrigin(r)); err == nil {
				t, err = firstView(r.Context(), api, site, article)
			} else if thread.ErrorCode(err) == thread.CodeInternal {
				logInternal(log, r, err)
			}
		}
		if err != nil {
			t = nil
		}
		r, release := widget.WithPrerender(r, t)
		defer release()
		// The page changes with every comment, while go-app answers If-None-Match with its build's ETag.
		r.Header.Del("If-None-Match")
		w.Header().Set("Content-Security-Policy", threadPagePolicy+"; "+frameAncestors(r.Context(), svc, q.Get("site")))
		goapp.ServeHTTP(w, r)
	})
	mux.Handle("GET "+embedPrefix+"/", goapp)
	mux.Handle("GET /embed.js", hostScript(embedJS))
	mux.Handle("GET /count.js", hostScript(countJS))
	return mux
}

// The scripts site owners paste into their pages: the thread, and the comment counts of a listing page.
var (
	//go:embed static/embed.js
	embedJS []byte
	//go:embed static/count.js
	countJS []byte
)

// hostScript serves a script site owners paste. Its URL cannot change, so browsers keep it an hour and then
// revalidate it.
func hostScript(script []byte) http.Handler {
	tag := fmt.Sprintf(`"%x"`, sha256.Sum256(script))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(script)
	})
}

// embeddingOrigin is the origin of the page that embeds the thread page, as its browser said it in Referer (or
// Origin); "" when neither was sent. The url parameter is not a witness of it: EmbedArticle checks that apart.
func embeddingOrigin(r *http.Request) string {
	for _, raw := range []string{r.Header.Get("Referer"), r.Header.Get("Origin")} {
		if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	return ""
}

// frameAncestors is the policy that lets only the site's own pages embed its threads.
func frameAncestors(ctx context.Context, svc *thread.Service, slug string) string {
	var allowed []string
	if site, err := svc.Site(ctx, slug); err == nil {
		for _, origin := range site.FrameAncestors {
			if thread.ValidFrameAncestor(origin) { // what cannot be an origin never reaches the header
				allowed = append(allowed, origin)
			}
		}
	}
	if len(allowed) == 0 {
		return "frame-ancestors 'none'"
	}
	return "frame-ancestors " + strings.Join(allowed, " ")
}

// firstView reads the first view of a thread through the GraphQL API in-process, as a browser would over
// HTTP: the same handler, the same response cache.
func firstView(ctx context.Context, api http.Handler, site, article string) (*widget.Thread, error) {
	body, err := json.Marshal(map[string]any{
		"query":     widget.PageQuery,
		"variables": map[string]any{"site": site, "article": article},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	rec := &bufferedResponse{header: http.Header{}}
	api.ServeHTTP(rec, req)
	return widget.DecodeThread(rec.body.Bytes(), site, article)
}
