package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/seed"
)

// testEndpoint serves the GraphQL endpoint over a real database (see internal/teststore) with the sample, as the server does
// (anonymous: no authentication middleware).
func testEndpoint(tb testing.TB) (endpoint, string) {
	tb.Helper()
	_, svc := teststore.Open(tb)
	if _, err := seed.Load(context.Background(), svc); err != nil {
		tb.Fatal(err)
	}
	e := newHandler(svc, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), RequestID: func(context.Context) string { return "" }})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.ServeHTTP(w, r.WithContext(WithLoaders(r.Context(), svc)))
	}))
	tb.Cleanup(hs.Close)
	return e, hs.URL
}

type testResponse struct {
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

func (r testResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func post(tb testing.TB, url string, params map[string]any) testResponse {
	tb.Helper()
	body, _ := json.Marshal(params)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out testResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestCachesStayWithinTheirBudgets persists 2,000 distinct queries of 200 fields each, as an anonymous
// client churning the caches would: the persisted-query and parsed-query caches stay within their byte
// budgets, the heap within them too, and a query a client asks for again still gets in and is served.
// Before, 1,000 such queries pinned their text and their syntax trees (about 80 KB each) for good.
func TestCachesStayWithinTheirBudgets(t *testing.T) {
	e, url := testEndpoint(t)
	send := func(query string, withText bool) testResponse {
		sum := sha256.Sum256([]byte(query))
		p := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}}
		if withText {
			p["query"] = query
		}
		return post(t, url, p)
	}
	query := func(i int) string {
		return fmt.Sprintf("query Q%d {", i) + repeatf(200, " a%d: __typename") + " }"
	}
	before := heapAfterGC()
	for i := range 2_000 {
		if r := send(query(i), true); len(r.Errors) > 0 {
			t.Fatalf("query %d: %+v", i, r.Errors)
		}
		if i%500 == 499 {
			t.Logf("after %d queries: persisted %d KiB in %d, parsed %d KiB in %d", i+1,
				e.persisted.entries.Bytes()>>10, e.persisted.entries.Len(), e.queries.entries.Bytes()>>10, e.queries.entries.Len())
		}
	}
	if n := e.persisted.entries.Bytes(); n > PersistedQueryBytes {
		t.Errorf("the persisted queries hold %d bytes, over their budget of %d", n, PersistedQueryBytes)
	}
	if n := e.queries.entries.Bytes(); n > QueryCacheBytes {
		t.Errorf("the parsed queries hold %d bytes, over their budget of %d", n, QueryCacheBytes)
	}
	grew := int64(heapAfterGC()) - int64(before)
	t.Logf("the heap grew by %d KiB", grew>>10)
	if budget := int64(QueryCacheBytes + PersistedQueryBytes + 8<<20); grew > budget {
		t.Errorf("the heap grew by %d MiB, over the caches' budgets", grew>>20)
	}

	// A query asked for twice gets into the full cache, and its hash alone then finds it.
	again := query(1_000_000)
	if r := send(again, false); r.code() != codePersistedQueryNotFound {
		t.Fatalf("an unknown hash: %+v", r)
	}
	send(again, true)
	send(again, true)
	if r := send(again, false); len(r.Errors) > 0 {
		t.Errorf("a query sent twice is not found by its hash: %+v", r.Errors)
	}
}

func repeatf(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// TestPersistedQueriesKeepOnlyValidDocuments: a query that fails validation or a limit is never persisted.
func TestPersistedQueriesKeepOnlyValidDocuments(t *testing.T) {
	e, url := testEndpoint(t)
	for _, q := range []string{`{ nope }`, `{ viewer {`, "{" + strings.Repeat(" __typename", 100) + " }"} {
		sum := sha256.Sum256([]byte(q))
		ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		if r := post(t, url, map[string]any{"query": q, "extensions": ext}); len(r.Errors) == 0 {
			t.Errorf("%q was answered without errors", q)
		}
		if r := post(t, url, map[string]any{"extensions": ext}); r.code() != codePersistedQueryNotFound {
			t.Errorf("%q was persisted: its hash answers %+v", q, r)
		}
	}
	if e.persisted.entries.Len() != 0 {
		t.Errorf("%d queries persisted", e.persisted.entries.Len())
	}
}

// TestIntIs32Bits: GraphQL's Int is a signed 32-bit integer; a literal or variable outside it is bad input.
func TestIntIs32Bits(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int
		ok   bool
	}{
		{int64(math.MaxInt32), math.MaxInt32, true},
		{int64(math.MinInt32), math.MinInt32, true},
		{json.Number("100"), 100, true},
		{float64(7), 7, true},
		{int64(math.MaxInt32 + 1), 0, false},
		{int64(math.MinInt32 - 1), 0, false},
		{json.Number("4294967296"), 0, false},
		{json.Number("99999999999999999999999"), 0, false},
		{json.Number("1.5"), 0, false},
		{float64(4294967296), 0, false},
		{float64(1.5), 0, false},
		{"12", 0, false},
		{true, 0, false},
	} {
		got, err := UnmarshalInt(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("UnmarshalInt(%#v) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}

	_, url := testEndpoint(t)
	const page = `query($n: Int) { article(site: "demo", key: "social-credit") { comments(first: $n) { totalCount } } }`
	for _, tc := range []struct {
		name   string
		params map[string]any
		code   string
	}{
		{"literal of 33 bits", map[string]any{"query": `{ article(site: "demo", key: "social-credit") { comments(first: 4294967296) { totalCount } } }`}, "BAD_USER_INPUT"},
		{"variable of 33 bits", map[string]any{"query": page, "variables": map[string]any{"n": 4294967296}}, "BAD_USER_INPUT"},
		{"negative variable of 33 bits", map[string]any{"query": page, "variables": map[string]any{"n": -4294967296}}, "BAD_USER_INPUT"},
		{"largest Int", map[string]any{"query": page, "variables": map[string]any{"n": math.MaxInt32}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url, tc.params)
			if r.code() != tc.code {
				t.Errorf("code %q, want %q: %+v", r.code(), tc.code, r.Errors)
			}
			if tc.code != "" && !strings.Contains(r.Errors[0].Message, "32-bit") {
				t.Errorf("the message does not say why: %q", r.Errors[0].Message)
			}
		})
	}
}

// TestRealDocumentsPassTheLimits: the documents real clients send are well within every limit, including
// Relay-style documents where many fragments select the same fields.
func TestRealDocumentsPassTheLimits(t *testing.T) {
	introspection, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	relay := "{ viewer {" + repeatf(MaxSameResponse, " ...R%d") + " } }" +
		repeatf(MaxSameResponse, " fragment R%d on Reader { id displayName }")
	for name, q := range map[string]string{"introspection": string(introspection), "widget page": widgetPageQuery, "relay": relay} {
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, MaxTokens)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := checkDocument(doc); err != nil {
			t.Errorf("%s is refused: %v", name, err)
		}
	}
}
