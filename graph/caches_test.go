package graph

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// widgetPageQuery is the shape of the widget's first page.
const widgetPageQuery = `query Page($site: String!, $key: String!, $after: String) {
  article(site: $site, key: $key) { id title commentCount
    comments(first: 50, after: $after, orderBy: TOP) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { ...C replies(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ...C } } } } } } } }
fragment C on Comment {
  id body bodyHTML createdAt editedAt status depth likeCount viewerHasLiked viewerCanEdit replyCount
  author { id displayName } parent { id } article { id commentCount }
}`

// TestQueryCacheCostsAreMeasured checks astBytesPerNode, the estimate the query cache budgets with, against
// what parsed and validated documents really hold on the heap.
func TestQueryCacheCostsAreMeasured(t *testing.T) {
	introspection, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	for _, tc := range []struct{ name, query string }{
		{"introspection", string(introspection)},
		{"widget page", widgetPageQuery},
		{"many small fields", "{ " + strings.Repeat("viewer { id } ", 1) + strings.Repeat("a1: __typename a2: __typename ", 100) + "}"},
		{"arguments", `{ nodes(ids: [` + strings.Repeat(`"x", `, 500) + `]) { id } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const copies = 50
			docs := make([]*ast.QueryDocument, copies)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range docs {
				q := strings.Clone(tc.query)
				doc, err := parser.ParseQuery(&ast.Source{Input: q})
				if err != nil {
					t.Fatal(err)
				}
				if errs := validator.ValidateWithRules(schema, doc, nil); len(errs) > 0 {
					t.Fatal(errs)
				}
				docs[i] = doc
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			held := float64(after.HeapAlloc-before.HeapAlloc) / copies
			estimate := documentBytes(tc.query, docs[0])
			t.Logf("%d bytes of text, %d nodes: %.0f bytes held, %.0f per node; estimated %d",
				len(tc.query), documentNodes(docs[0]), held, (held-float64(len(tc.query)))/float64(documentNodes(docs[0])), estimate)
			if held > float64(estimate) {
				t.Errorf("a document holds %.0f bytes, more than the %d the cache counts", held, estimate)
			}
			runtime.KeepAlive(docs)
		})
	}
}
