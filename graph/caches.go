package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash/maphash"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/threadline/threadline/internal/bytelru"
)

// Budgets of the caches of documents. Both hold only documents that passed every limit and validation, and
// take a new one, once full, only when it is offered a second time (see bytelru): a stream of distinct
// documents from anonymous clients can fill each at most once, and never evicts what is used.
const (
	// QueryCacheBytes bounds the parsed documents kept, estimated as astBytesPerNode per node of their syntax
	// tree plus their text. GraphiQL's introspection query is estimated at 50 KB; the widget's page query at 30 KB.
	QueryCacheBytes = 16 << 20
	// PersistedQueryBytes bounds the text of automatic persisted queries, each at most MaxQueryBytes.
	PersistedQueryBytes = 4 << 20
	// cacheWindow is how many keys offered once to a full cache are remembered (about 100 bytes each).
	cacheWindow = 4096
)

// astBytesPerNode is what a parsed and validated document holds per node of its syntax tree (field,
// argument, value, directive, fragment, variable): TestQueryCacheCostsAreMeasured measures 200 to 400 bytes
// (a field costs most), so a document's estimate is above what it holds.
const astBytesPerNode = 500

// queryCache keeps parsed, validated documents by their text, bounded in bytes.
type queryCache struct {
	seed    maphash.Seed
	entries *bytelru.Cache[uint64, cachedDocument]
}

// cachedDocument keeps its text: keys are 64-bit hashes, and a document is returned only for its own text.
type cachedDocument struct {
	query string
	doc   *ast.QueryDocument
}

var _ graphql.Cache[*ast.QueryDocument] = (*queryCache)(nil)

func newQueryCache(budget int64) *queryCache {
	return &queryCache{seed: maphash.MakeSeed(), entries: bytelru.New[uint64, cachedDocument](budget, budget/8, cacheWindow)}
}

func (c *queryCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	e, ok := c.entries.Get(maphash.String(c.seed, query))
	if !ok || e.query != query {
		return nil, false
	}
	return e.doc, true
}

func (c *queryCache) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	c.entries.Add(maphash.String(c.seed, query), cachedDocument{query, doc}, documentBytes(query, doc))
}

// has reports whether query's document is cached: it passed every limit when it was put there.
func (c *queryCache) has(query string) bool {
	_, ok := c.Get(context.Background(), query)
	return ok
}

// documentBytes estimates the memory a parsed document holds.
func documentBytes(query string, doc *ast.QueryDocument) int64 {
	return int64(len(query)) + astBytesPerNode*int64(documentNodes(doc))
}

// documentNodes counts the nodes of a document's syntax tree, fragments not spread.
func documentNodes(doc *ast.QueryDocument) int {
	n := 0
	var value func(v *ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		n++
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	directives := func(list ast.DirectiveList) {
		for _, d := range list {
			n++
			for _, a := range d.Arguments {
				n++
				value(a.Value)
			}
		}
	}
	var set func(ast.SelectionSet)
	set = func(s ast.SelectionSet) {
		for _, sel := range s {
			n++
			switch s := sel.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					n++
					value(a.Value)
				}
				directives(s.Directives)
				set(s.SelectionSet)
			case *ast.InlineFragment:
				directives(s.Directives)
				set(s.SelectionSet)
			case *ast.FragmentSpread:
				directives(s.Directives)
			}
		}
	}
	for _, op := range doc.Operations {
		n++
		directives(op.Directives)
		for _, v := range op.VariableDefinitions {
			n++
			value(v.DefaultValue)
			directives(v.Directives)
		}
		set(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		n++
		directives(f.Directives)
		set(f.SelectionSet)
	}
	return n
}

// codePersistedQueryNotFound is the code the automatic-persisted-query protocol prescribes: clients such as
// Apollo's resend the full query when they see it, so it passes through unchanged.
const codePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// persistedQueries is automatic persisted queries (Apollo's protocol): a client sends a query's SHA-256
// alone, and the query with it when the server answers PERSISTED_QUERY_NOT_FOUND. Unlike gqlgen's extension,
// which stores every query sent before it is even parsed, this one stores a query only once it has passed
// validation and every limit, and in a cache bounded in bytes.
type persistedQueries struct {
	entries *bytelru.Cache[[sha256.Size]byte, string]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = persistedQueries{}

func newPersistedQueries(budget int64) persistedQueries {
	return persistedQueries{entries: bytelru.New[[sha256.Size]byte, string](budget, MaxQueryBytes+1024, cacheWindow)}
}

func (persistedQueries) ExtensionName() string                          { return "AutomaticPersistedQuery" }
func (persistedQueries) Validate(schema graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters finds the query of a hash sent alone, and checks the hash of a query sent with
// one.
func (p persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	ext, ok := params.Extensions["persistedQuery"]
	if !ok || ext == nil {
		return nil
	}
	m, _ := ext.(map[string]any)
	hash, _ := m["sha256Hash"].(string)
	if !isVersion1(m["version"]) {
		return badInput("unsupported persisted query version: send version 1")
	}
	var key [sha256.Size]byte
	if len(hash) != hex.EncodedLen(sha256.Size) {
		return badInput("persistedQuery.sha256Hash is not a SHA-256 in hexadecimal")
	}
	if _, err := hex.Decode(key[:], []byte(hash)); err != nil {
		return badInput("persistedQuery.sha256Hash is not a SHA-256 in hexadecimal")
	}
	if params.Query == "" {
		query, ok := p.entries.Get(key)
		if !ok {
			err := gqlerror.Errorf("PersistedQueryNotFound")
			errcode.Set(err, codePersistedQueryNotFound)
			return err
		}
		params.Query = query
		return nil
	}
	if sha256.Sum256([]byte(params.Query)) != key {
		return badInput("the persisted query's hash does not match the query")
	}
	return nil
}

// MutateOperationContext stores a query sent with its hash, now that it has passed validation and the
// limits (this extension is used after the complexity limit).
func (p persistedQueries) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Extensions["persistedQuery"] == nil {
		return nil
	}
	key := sha256.Sum256([]byte(op.RawQuery))
	if _, ok := p.entries.Get(key); !ok {
		p.entries.Add(key, op.RawQuery, int64(len(op.RawQuery)))
	}
	return nil
}

func isVersion1(v any) bool {
	switch v := v.(type) {
	case json.Number:
		return v == "1"
	case float64:
		return v == 1
	case int:
		return v == 1
	case int64:
		return v == 1
	}
	return false
}
