package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/thread"
)

// TestResponseCacheStaysWithinItsBudget asks 2,000 distinct cacheable questions whose answers are about
// 1 MB each, as an anonymous client pinning memory would: the cache keeps within its byte budget and the heap
// with it, and a question asked again still gets in and is served from the cache. Before, the cache held up
// to 1,024 answers of up to 1 MiB: a gigabyte that was never given back.
func TestResponseCacheStaysWithinItsBudget(t *testing.T) {
	ctx := context.Background()
	db, svc := teststore.Open(t)
	if _, err := seed.Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	h, cache := newServer(svc, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: db.Ping})
	hs := httptest.NewServer(h)
	defer hs.Close()

	send := func(token, query string, vars map[string]any) ([]byte, string, error) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.Header.Get("Cache-Status"), err
	}
	var reader struct {
		Data struct{ CreateReader struct{ Token string } }
	}
	b, _, err := send("", `mutation { createReader(input: {site: "demo", displayName: "Big"}) { token } }`, nil)
	if err != nil || json.Unmarshal(b, &reader) != nil || reader.Data.CreateReader.Token == "" {
		t.Fatalf("createReader: %v %s", err, b)
	}
	var art struct {
		Data struct{ Article struct{ ID string } }
	}
	b, _, _ = send("", `{ article(site: "demo", key: "social-credit") { id } }`, nil)
	if json.Unmarshal(b, &art) != nil {
		t.Fatal(string(b))
	}
	// Eleven comments of 10,000 four-byte characters: about 880 KB as body and HTML.
	big := strings.Repeat("\U0001F600", thread.MaxBodyChars)
	for range 11 {
		if b, _, err := send(reader.Data.CreateReader.Token, `mutation($a: ID!, $b: String!) { addComment(input: {articleId: $a, body: $b}) { comment { id } } }`,
			map[string]any{"a": art.Data.Article.ID, "b": big}); err != nil || bytes.Contains(b, []byte(`"errors"`)) {
			t.Fatalf("addComment: %v %.300s", err, b)
		}
	}
	question := func(i int) string {
		return fmt.Sprintf(`{ article(site: "demo", key: "social-credit") { q%d: title comments(first: 11, orderBy: NEWEST) { nodes { body bodyHTML } } } }`, i)
	}
	if b, _, _ := send("", question(9_999), nil); len(b) < 800_000 || len(b) > responseCacheMaxEntry {
		t.Fatalf("an answer is %d bytes, want about 1 MB: %.300s", len(b), b)
	}

	before := heapAfterGC()
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range next {
				if _, _, err := send("", question(i), nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range 2_000 {
		next <- i
		if n := cache.bytes(); n > responseCacheBytes {
			t.Fatalf("after %d answers the cache holds %d bytes, over its budget of %d", i, n, responseCacheBytes)
		}
	}
	close(next)
	wg.Wait()
	t.Logf("the cache holds %d KiB in %d answers", cache.bytes()>>10, cache.entries.Len())
	if n := cache.bytes(); n > responseCacheBytes {
		t.Errorf("the cache holds %d bytes, over its budget of %d", n, responseCacheBytes)
	}
	grew := int64(heapAfterGC()) - int64(before)
	t.Logf("the heap grew by %d MiB", grew>>20)
	if grew > responseCacheBytes+16<<20 {
		t.Errorf("the heap grew by %d MiB; the cache's budget is %d MiB", grew>>20, responseCacheBytes>>20)
	}

	// Asked for a second time, a question gets into the full cache; the third time it is a hit.
	var statuses []string
	for range 3 {
		_, status, _ := send("", question(5_000), nil)
		statuses = append(statuses, status)
	}
	if statuses[2] != "threadline; hit" {
		t.Errorf("a question asked three times was answered %q", statuses)
	}
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
