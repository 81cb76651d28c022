package widget

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
)

// go-app prerenders a page from its URL alone: its engine gets neither the request nor its context. The server
// therefore loads the thread itself, with the request's context and through its own API, and hands it over
// under a one-time token added to the URL go-app sees.

// prerenderParam is the query parameter that carries the token.
const prerenderParam = "tl-prerender"

var prerenders sync.Map // token → *Thread (nil when loading failed)

// WithPrerender returns r, to be passed to the go-app handler, carrying t for the thread page's prerender (a
// nil t renders the page's error message), and a function to call once the request is served, which forgets t
// if the page did not take it.
func WithPrerender(r *http.Request, t *Thread) (*http.Request, func()) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	prerenders.Store(token, t)
	r2 := r.Clone(r.Context())
	q := r2.URL.Query()
	q.Set(prerenderParam, token)
	r2.URL.RawQuery = q.Encode()
	return r2, func() { prerenders.Delete(token) }
}

// takePrerender returns the thread stored under token, and forgets it.
func takePrerender(token string) (*Thread, bool) {
	v, ok := prerenders.LoadAndDelete(token)
	if !ok {
		return nil, false
	}
	return v.(*Thread), true
}
