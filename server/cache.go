package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/threadline/threadline/graph"
	"github.com/threadline/threadline/internal/bytelru"
	"github.com/threadline/threadline/thread"
)

// responseCache keeps the GraphQL responses of anonymous queries. Every anonymous reader of an article asks the
// same questions and gets the same answers, so the first view of a thread, by far the most frequent request,
// is served from memory. A response is dropped when any article it read changes (the thread service reports
// every committed write), or when anything not confined to one article changes. The cache is bounded in bytes,
// and once full takes a new response only when it is asked for a second time (see bytelru): anonymous
// clients asking distinct questions cannot pin more than its budget, nor evict what readers use.
type responseCache struct {
	entries *bytelru.Cache[[sha256.Size]byte, *cachedResponse]
	maxBody int

	epoch    atomic.Uint64 // bumped by every write; a response computed across a write is not kept
	mu       sync.RWMutex
	versions map[int64]uint64 // article ID → version, bumped by each write to the article
	global   uint64           // bumped by changes not confined to one article

	// inDoubt reports whether the cache may have missed changes (see Options.CacheInDoubt); nil: never.
	inDoubt func() bool
}

// Budgets of the response cache: the first page of a 1,000-comment thread, 50 comments with 3 replies each, is
// about 150 KB, so the cache holds a couple of hundred such pages.
const (
	responseCacheBytes    = 32 << 20
	responseCacheMaxEntry = 1 << 20
	responseCacheWindow   = 8192 // keys asked for once, remembered while the cache is full (about 100 bytes each)
)

type cachedResponse struct {
	contentType string
	body        []byte
	global      uint64
	articles    []articleVersion
}

// size is what the entry holds, beyond the cache's own overhead.
func (r *cachedResponse) size() int64 {
	return int64(len(r.body) + len(r.contentType) + 16*len(r.articles) + 64)
}

type articleVersion struct {
	id      int64
	version uint64
}

func newResponseCache(budget int64, maxBody int) *responseCache {
	return &responseCache{
		entries:  bytelru.New[[sha256.Size]byte, *cachedResponse](budget, int64(maxBody)+4096, responseCacheWindow),
		maxBody:  maxBody,
		versions: map[int64]uint64{},
	}
}

// bytes returns what the cached responses hold.
func (c *responseCache) bytes() int64 { return c.entries.Bytes() }

// changed records a committed write to an article, or to everything when articleID is 0.
func (c *responseCache) changed(articleID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if articleID == 0 {
		c.global++
	} else {
		c.versions[articleID]++
	}
	// Under the same lock as the versions: a response that records new versions also sees the new epoch.
	c.epoch.Add(1)
}

// fresh reports whether nothing the response read has changed since it was computed.
func (c *responseCache) fresh(r *cachedResponse) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if r.global != c.global {
		return false
	}
	for _, a := range r.articles {
		if c.versions[a.id] != a.version {
			return false
		}
	}
	return true
}

// key identifies a request by everything that shapes its response: method, URL query, body, and the media
// type asked for.
func cacheKey(r *http.Request, body []byte) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.RawQuery, r.Header.Get("Accept")} {
		io.WriteString(h, strconv.Itoa(len(part)))
		io.WriteString(h, ":")
		io.WriteString(h, part)
	}
	h.Write(body)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// middleware serves anonymous requests from the cache, and fills it from the responses of cacheable ones.
// Requests with credentials pass straight through: their answers depend on who asks.
func (c *responseCache) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || (r.Method != http.MethodGet && r.Method != http.MethodPost) || streaming(r) {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Method == http.MethodPost {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				status := http.StatusBadRequest
				if errors.As(err, new(*http.MaxBytesError)) {
					status = http.StatusRequestEntityTooLarge
				}
				writeGraphQLError(w, status, thread.CodeInvalid, "the request body could not be read: "+err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		key := cacheKey(r, body)
		doubt := c.doubtful()
		if hit, ok := c.entries.Get(key); ok {
			if c.fresh(hit) {
				if doubt {
					c.revalidate(w, r, next, hit)
					return
				}
				hit.serve(w, "threadline; hit")
				return
			}
			c.entries.Remove(key) // stale: its bytes go back to the budget at once
		}

		epoch := c.epoch.Load()
		c.mu.RLock()
		global := c.global
		c.mu.RUnlock()
		ctx, reads := graph.WithReads(r.Context())
		rec := &responseRecorder{ResponseWriter: w, keep: c.maxBody}
		w.Header().Set("Cache-Status", "threadline; fwd=miss")
		next.ServeHTTP(rec, r.WithContext(ctx))

		if rec.status != http.StatusOK || rec.overflowed || !reads.Cacheable() || bytes.HasPrefix(rec.body.Bytes(), []byte(`{"errors"`)) {
			return
		}
		entry := &cachedResponse{contentType: rec.Header().Get("Content-Type"), body: bytes.Clone(rec.body.Bytes()), global: global}
		c.mu.RLock()
		for _, id := range reads.Articles() {
			entry.articles = append(entry.articles, articleVersion{id, c.versions[id]})
		}
		// A write committed while the response was computed may or may not be in it: keep it only if none was.
		// The check is under the lock that changed holds while it bumps both.
		unchanged := c.epoch.Load() == epoch
		c.mu.RUnlock()
		// Nor while the cache is in doubt: a write on another server may be neither in the response nor yet
		// heard of, and then nothing would drop it.
		if unchanged && !doubt && !c.doubtful() {
			c.entries.Add(key, entry, entry.size())
		}
	})
}

// doubtful reports whether the cache may have missed changes made by other servers.
func (c *responseCache) doubtful() bool { return c.inDoubt != nil && c.inDoubt() }

func (r *cachedResponse) serve(w http.ResponseWriter, cacheStatus string) {
	w.Header().Set("Content-Type", r.contentType)
	w.Header().Set("Cache-Status", cacheStatus)
	_, _ = w.Write(r.body)
}

// revalidate answers a request whose cached answer is in doubt (stale-if-error, RFC 5861): the request runs, and
// its answer is served unless the database could not give one; then the cached answer is, marked as such.
// Neither is stored: the cache is in doubt.
func (c *responseCache) revalidate(w http.ResponseWriter, r *http.Request, next http.Handler, cached *cachedResponse) {
	buf := &bufferedResponse{header: http.Header{}}
	next.ServeHTTP(buf, r)
	if buf.failedInternally() {
		cached.serve(w, "threadline; hit; detail=stale-if-error")
		return
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Set("Cache-Status", "threadline; fwd=stale")
	if buf.status != 0 {
		w.WriteHeader(buf.status)
	}
	_, _ = w.Write(buf.body.Bytes())
}

// bufferedResponse is an in-memory http.ResponseWriter: a whole response, to be served or set aside.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// failedInternally reports whether the response is a server's failure, not an answer: a 5xx, or a GraphQL
// response with an INTERNAL error (what a store out of reach gives).
func (b *bufferedResponse) failedInternally() bool {
	if b.status >= http.StatusInternalServerError {
		return true
	}
	if !bytes.HasPrefix(b.body.Bytes(), []byte(`{"errors"`)) {
		return false
	}
	var resp struct {
		Errors []struct {
			Extensions struct{ Code thread.Code }
		}
	}
	if err := json.Unmarshal(b.body.Bytes(), &resp); err != nil {
		return true
	}
	for _, e := range resp.Errors {
		if e.Extensions.Code == thread.CodeInternal {
			return true
		}
	}
	return false
}
