package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/threadline/threadline/thread"
)

// The Cache-Status values the response cache sets (RFC 9211).
const (
	cacheHit  = "threadline; hit"
	cacheMiss = "threadline; fwd=miss"
)

// cacheReq is one GraphQL request as the wire carries it.
type cacheReq struct {
	method string // GET or POST
	query  string
	vars   map[string]any
	header map[string]string // e.g. Accept, Authorization
}

// cacheResp is a response with what the cache tests look at.
type cacheResp struct {
	status      int
	cacheStatus string
	contentType string
	body        []byte
}

// cacheSend sends req and returns the raw response; it returns errors instead of failing, so that goroutines
// can use it.
func (s *testServer) cacheSend(req cacheReq) (*cacheResp, error) {
	var hreq *http.Request
	var err error
	switch req.method {
	case http.MethodGet:
		params := url.Values{"query": {req.query}}
		if req.vars != nil {
			v, err := json.Marshal(req.vars)
			if err != nil {
				return nil, err
			}
			params.Set("variables", string(v))
		}
		hreq, err = http.NewRequest(http.MethodGet, s.URL+"/graphql?"+params.Encode(), nil)
	case http.MethodPost:
		body, mErr := json.Marshal(map[string]any{"query": req.query, "variables": req.vars})
		if mErr != nil {
			return nil, mErr
		}
		hreq, err = http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
		if err == nil {
			hreq.Header.Set("Content-Type", "application/json")
		}
	default:
		return nil, fmt.Errorf("method %q", req.method)
	}
	if err != nil {
		return nil, err
	}
	for k, v := range req.header {
		hreq.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &cacheResp{
		status:      resp.StatusCode,
		cacheStatus: resp.Header.Get("Cache-Status"),
		contentType: resp.Header.Get("Content-Type"),
		body:        body,
	}, nil
}

// cacheMust is cacheSend for the test goroutine.
func (s *testServer) cacheMust(tb testing.TB, req cacheReq) *cacheResp {
	tb.Helper()
	r, err := s.cacheSend(req)
	if err != nil {
		tb.Fatalf("%s %.60q: %v", req.method, req.query, err)
	}
	return r
}

// gql decodes the body as a GraphQL response.
func (r *cacheResp) gql() (*gqlResponse, error) {
	var out gqlResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		return nil, fmt.Errorf("decode response (status %d): %v\n%.300s", r.status, err, r.body)
	}
	out.status = r.status
	return &out, nil
}

// decode decodes the data of a successful response into v (when not nil), or returns why it cannot.
func (r *cacheResp) decode(v any) error {
	g, err := r.gql()
	if err != nil {
		return err
	}
	if r.status != http.StatusOK || len(g.Errors) > 0 {
		return fmt.Errorf("status %d, errors %+v", r.status, g.Errors)
	}
	if v != nil {
		if err := json.Unmarshal(g.Data, v); err != nil {
			return fmt.Errorf("decode data: %v\n%s", err, g.Data)
		}
	}
	return nil
}

func (r *cacheResp) mustDecode(tb testing.TB, v any) {
	tb.Helper()
	if err := r.decode(v); err != nil {
		tb.Fatal(err)
	}
}

// expectCacheStatus fails unless the response's Cache-Status is want.
func expectCacheStatus(tb testing.TB, what string, r *cacheResp, want string) {
	tb.Helper()
	if r.cacheStatus != want {
		tb.Errorf("%s: Cache-Status = %q, want %q", what, r.cacheStatus, want)
	}
}

// expectSameBody fails unless a hit repeats the response it was filled from, byte for byte.
func expectSameBody(tb testing.TB, what string, got, want *cacheResp) {
	tb.Helper()
	if !bytes.Equal(got.body, want.body) {
		tb.Errorf("%s: body differs from the cached one:\n got %.400s\nwant %.400s", what, got.body, want.body)
	}
	if got.contentType != want.contentType {
		tb.Errorf("%s: Content-Type = %q, want %q", what, got.contentType, want.contentType)
	}
}

func postReq(query string, vars map[string]any) cacheReq {
	return cacheReq{method: http.MethodPost, query: query, vars: vars}
}

func getReq(query string, vars map[string]any) cacheReq {
	return cacheReq{method: http.MethodGet, query: query, vars: vars}
}

// withHeader returns r with one more header.
func (r cacheReq) withHeader(name, value string) cacheReq {
	h := map[string]string{}
	for k, v := range r.header {
		h[k] = v
	}
	h[name] = value
	r.header = h
	return r
}

// cacheGlobalID returns the global ID of kind and database ID n, as the API encodes them.
func cacheGlobalID(kind string, n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(n, 10)))
}

// cacheDBID returns the database ID of a global ID.
func cacheDBID(tb testing.TB, gid string) int64 {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(gid)
	if err != nil {
		tb.Fatalf("ID %q: %v", gid, err)
	}
	_, num, _ := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		tb.Fatalf("ID %q: %v", gid, err)
	}
	if cacheGlobalID(strings.SplitN(string(raw), ":", 2)[0], n) != gid {
		tb.Fatalf("the test's ID encoding does not round-trip %q", gid)
	}
	return n
}

const cachedPageQuery = `query CachedPage($first: Int) {
  article(site: "demo", key: "social-credit") {
    title commentCount
    comments(first: $first, orderBy: OLDEST) { totalCount nodes { id body author { displayName } } }
  }
}`

func TestCacheRepeatedQuery(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	const graphQLResponse = "application/graphql-response+json"
	three, one := map[string]any{"first": 3}, map[string]any{"first": 1}

	// The steps run in order on one server; entry names the cache entry each request should use.
	steps := []struct {
		name  string
		req   cacheReq
		entry string
		want  string // Cache-Status
	}{
		{"POST", postReq(cachedPageQuery, three), "post", cacheMiss},
		{"POST again", postReq(cachedPageQuery, three), "post", cacheHit},
		{"GET of the same query", getReq(cachedPageQuery, three), "get", cacheMiss},
		{"GET again", getReq(cachedPageQuery, three), "get", cacheHit},
		{"POST after the GET", postReq(cachedPageQuery, three), "post", cacheHit},
		{"POST accepting graphql-response+json", postReq(cachedPageQuery, three).withHeader("Accept", graphQLResponse), "post-gr", cacheMiss},
		{"POST accepting graphql-response+json again", postReq(cachedPageQuery, three).withHeader("Accept", graphQLResponse), "post-gr", cacheHit},
		{"POST accepting application/json explicitly", postReq(cachedPageQuery, three).withHeader("Accept", "application/json"), "post-json", cacheMiss},
		{"POST accepting application/json again", postReq(cachedPageQuery, three).withHeader("Accept", "application/json"), "post-json", cacheHit},
		{"GET accepting graphql-response+json", getReq(cachedPageQuery, three).withHeader("Accept", graphQLResponse), "get-gr", cacheMiss},
		{"GET accepting graphql-response+json again", getReq(cachedPageQuery, three).withHeader("Accept", graphQLResponse), "get-gr", cacheHit},
		{"POST with other variables", postReq(cachedPageQuery, one), "post-one", cacheMiss},
		{"POST with other variables again", postReq(cachedPageQuery, one), "post-one", cacheHit},
		{"first POST once more", postReq(cachedPageQuery, three), "post", cacheHit},
		{"first GET once more", getReq(cachedPageQuery, three), "get", cacheHit},
	}
	filled := map[string]*cacheResp{}
	for _, step := range steps {
		r := s.cacheMust(t, step.req)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", step.name, r.status, r.body)
		}
		expectCacheStatus(t, step.name, r, step.want)
		wantType := "application/json"
		if step.req.header["Accept"] == graphQLResponse {
			wantType = graphQLResponse
		}
		if r.contentType != wantType {
			t.Errorf("%s: Content-Type = %q, want %q", step.name, r.contentType, wantType)
		}
		var data struct {
			Article struct {
				Title        string
				CommentCount int
				Comments     struct {
					TotalCount int
					Nodes      []struct{ ID, Body string }
				}
			}
		}
		r.mustDecode(t, &data)
		wantNodes := step.req.vars["first"].(int)
		if a := data.Article; a.CommentCount != 45 || a.Comments.TotalCount != 45 || len(a.Comments.Nodes) != wantNodes || a.Title == "" {
			t.Errorf("%s: article = %+v, want 45 comments and %d nodes", step.name, a, wantNodes)
		}
		if first, ok := filled[step.entry]; ok {
			expectSameBody(t, step.name, r, first)
		} else {
			filled[step.entry] = r
		}
	}
	// The same data, whatever the method or media type.
	for _, entry := range []string{"get", "post-gr", "post-json", "get-gr"} {
		if !bytes.Equal(filled[entry].body, filled["post"].body) {
			t.Errorf("entry %s: body %.200s differs from POST's %.200s", entry, filled[entry].body, filled["post"].body)
		}
	}
}

// cacheArticleQuery reads what each write changes: counts, bodies and likes of the sample article.
const cacheArticleQuery = `query CacheView {
  article(site: "demo", key: "social-credit") {
    commentCount
    comments(first: 100, orderBy: NEWEST) { totalCount nodes { id body likeCount } }
  }
}`

type cacheView struct {
	Article struct {
		CommentCount int
		Comments     struct {
			TotalCount int
			Nodes      []cacheViewComment
		}
	}
}

type cacheViewComment struct {
	ID        string
	Body      string
	LikeCount int
}

func (v *cacheView) find(id string) *cacheViewComment {
	for i := range v.Article.Comments.Nodes {
		if c := &v.Article.Comments.Nodes[i]; c.ID == id {
			return c
		}
	}
	return nil
}

const (
	cacheEditMutation   = `mutation($id: ID!, $b: String!) { editComment(input: {commentId: $id, body: $b}) { comment { id body } } }`
	cacheDeleteMutation = `mutation($id: ID!) { deleteComment(input: {commentId: $id}) { deletedCommentId } }`
	cacheLikeMutation   = `mutation($id: ID!) { likeComment(input: {commentId: $id}) { comment { likeCount } } }`
	cacheUnlikeMutation = `mutation($id: ID!) { unlikeComment(input: {commentId: $id}) { comment { likeCount } } }`
)

func TestCacheInvalidatedByWrites(t *testing.T) {
	t.Parallel()
	type env struct {
		s       *testServer
		token   string // the writer's
		other   string // another reader's token
		article string // the sample article's ID
		target  string // the comment set up for the write
	}
	ownComment := func(t *testing.T, e env) string {
		return e.s.addComment(t, e.token, e.article, "", "the writer's comment")
	}
	likedComment := func(t *testing.T, e env) string {
		id := ownComment(t, e)
		e.s.mustDo(t, e.other, cacheLikeMutation, map[string]any{"id": id}, nil)
		return id
	}
	failing := func(t *testing.T, r *gqlResponse, code string) {
		t.Helper()
		if r.code() != code {
			t.Fatalf("write answered %+v, want %s", r.Errors, code)
		}
	}
	tests := []struct {
		name        string
		setup       func(t *testing.T, e env) string // returns the target comment
		write       func(t *testing.T, e env)
		invalidates bool
		check       func(t *testing.T, e env, before, after *cacheView)
	}{
		{
			name:        "addComment",
			write:       func(t *testing.T, e env) { e.s.addComment(t, e.token, e.article, "", "a new comment") },
			invalidates: true,
			check: func(t *testing.T, e env, before, after *cacheView) {
				if after.Article.CommentCount != before.Article.CommentCount+1 || after.Article.Comments.TotalCount != before.Article.Comments.TotalCount+1 {
					t.Errorf("counts %d/%d after, %d/%d before: want one more", after.Article.CommentCount, after.Article.Comments.TotalCount,
						before.Article.CommentCount, before.Article.Comments.TotalCount)
				}
				if n := after.Article.Comments.Nodes; len(n) == 0 || n[0].Body != "a new comment" {
					t.Errorf("the newest comment is not the new one: %+v", n[:min(1, len(n))])
				}
			},
		},
		{
			name:        "reply with addComment",
			setup:       ownComment,
			write:       func(t *testing.T, e env) { e.s.addComment(t, e.other, e.article, e.target, "a reply") },
			invalidates: true,
			check: func(t *testing.T, e env, before, after *cacheView) {
				// A reply counts in commentCount but not among the top-level comments.
				if after.Article.CommentCount != before.Article.CommentCount+1 || after.Article.Comments.TotalCount != before.Article.Comments.TotalCount {
					t.Errorf("counts %d/%d after, %d/%d before: want commentCount +1, totalCount the same", after.Article.CommentCount,
						after.Article.Comments.TotalCount, before.Article.CommentCount, before.Article.Comments.TotalCount)
				}
			},
		},
		{
			name:  "editComment",
			setup: ownComment,
			write: func(t *testing.T, e env) {
				e.s.mustDo(t, e.token, cacheEditMutation, map[string]any{"id": e.target, "b": "edited body"}, nil)
			},
			invalidates: true,
			check: func(t *testing.T, e env, before, after *cacheView) {
				if c := after.find(e.target); c == nil || c.Body != "edited body" {
					t.Errorf("edited comment reads %+v, want the new body", c)
				}
				if after.Article.CommentCount != before.Article.CommentCount {
					t.Errorf("commentCount %d, want %d", after.Article.CommentCount, before.Article.CommentCount)
				}
			},
		},
		{
			name:  "deleteComment",
			setup: ownComment,
			write: func(t *testing.T, e env) {
				e.s.mustDo(t, e.token, cacheDeleteMutation, map[string]any{"id": e.target}, nil)
			},
			invalidates: true,
			check: func(t *testing.T, e env, before, after *cacheView) {
				if before.find(e.target) == nil {
					t.Fatalf("the comment was not there before")
				}
				if c := after.find(e.target); c != nil {
					t.Errorf("deleted comment still listed: %+v", c)
				}
				if after.Article.CommentCount != before.Article.CommentCount-1 || after.Article.Comments.TotalCount != before.Article.Comments.TotalCount-1 {
					t.Errorf("counts %d/%d after, %d/%d before: want one fewer", after.Article.CommentCount, after.Article.Comments.TotalCount,
						before.Article.CommentCount, before.Article.Comments.TotalCount)
				}
			},
		},
		{
			name:  "likeComment",
			setup: ownComment,
			write: func(t *testing.T, e env) {
				e.s.mustDo(t, e.other, cacheLikeMutation, map[string]any{"id": e.target}, nil)
			},
			invalidates: true,
			check: func(t *testing.T, e env, before, after *cacheView) {
				if b, a := before.find(e.target), after.find(e.target); b == nil || a == nil || b.LikeCount != 0 || a.LikeCount != 1 {
					t.Errorf("likeCount before %+v, after %+v: want 0 then 1", b, a)
				}
			},
		},
		{
			name:  "unlikeComment",
			setup: likedComment,
			write: func(t *testing.T, e env) {
				e.s.mustDo(t, e.other, cacheUnlikeMutation, map[string]any{"id": e.target}, nil)
			},
			invalidates: true,
			check: func(t *testing.T, e env, before, after *cacheView) {
				if b, a := before.find(e.target), after.find(e.target); b == nil || a == nil || b.LikeCount != 1 || a.LikeCount != 0 {
					t.Errorf("likeCount before %+v, after %+v: want 1 then 0", b, a)
				}
			},
		},
		{
			name:  "refused editComment of another reader's comment",
			setup: ownComment,
			write: func(t *testing.T, e env) {
				failing(t, e.s.do(t, e.other, cacheEditMutation, map[string]any{"id": e.target, "b": "hijacked"}), "FORBIDDEN")
			},
			invalidates: false,
		},
		{
			name: "refused addComment with an empty body",
			write: func(t *testing.T, e env) {
				failing(t, e.s.do(t, e.token, `mutation($a: ID!) { addComment(input: {articleId: $a, body: "  "}) { comment { id } } }`,
					map[string]any{"a": e.article}), "BAD_USER_INPUT")
			},
			invalidates: false,
		},
		{
			name:        "createReader",
			write:       func(t *testing.T, e env) { e.s.newReader(t, "Newcomer") },
			invalidates: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t)
			e := env{s: s, article: s.articleID(t)}
			_, e.token = s.newReader(t, "Writer")
			_, e.other = s.newReader(t, "Other")
			if tt.setup != nil {
				e.target = tt.setup(t, e)
			}
			reads := []cacheReq{postReq(cacheArticleQuery, nil), getReq(cacheArticleQuery, nil)}
			s.DB.Settle(t) // the event log's follower has read the setup's writes (on PostgreSQL)

			before := make([]*cacheResp, len(reads))
			for i, req := range reads {
				before[i] = s.cacheMust(t, req)
				expectCacheStatus(t, req.method+" before the write", before[i], cacheMiss)
				again := s.cacheMust(t, req)
				expectCacheStatus(t, req.method+" again before the write", again, cacheHit)
				expectSameBody(t, req.method+" again before the write", again, before[i])
			}
			var beforeView cacheView
			before[0].mustDecode(t, &beforeView)

			tt.write(t, e)
			s.DB.Settle(t) // its invalidation from the event log too (on PostgreSQL)

			for i, req := range reads {
				after := s.cacheMust(t, req)
				var afterView cacheView
				after.mustDecode(t, &afterView)
				if !tt.invalidates {
					expectCacheStatus(t, req.method+" after a write that changed nothing", after, cacheHit)
					expectSameBody(t, req.method+" after a write that changed nothing", after, before[i])
					continue
				}
				expectCacheStatus(t, req.method+" after the write", after, cacheMiss)
				if bytes.Equal(after.body, before[i].body) {
					t.Errorf("%s after the write: the body did not change", req.method)
				}
				tt.check(t, e, &beforeView, &afterView)
				again := s.cacheMust(t, req)
				expectCacheStatus(t, req.method+" again after the write", again, cacheHit)
				expectSameBody(t, req.method+" again after the write", again, after)
			}
		})
	}
}

func TestCacheArticlesAreIndependent(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ctx := context.Background()
	site, err := s.Svc.Site(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	b := &thread.Article{SiteID: site.ID, Key: "cache-b", Title: "Article B"}
	created, err := s.Svc.ImportArticle(ctx, b, []thread.ImportedComment{
		{Body: "B's first comment"},
		{AuthorName: "Bea", Body: "B's second comment"},
	})
	if err != nil || !created {
		t.Fatalf("import article B: created %v, %v", created, err)
	}
	_, token := s.newReader(t, "Writer")
	idA := s.articleID(t)
	idB := cacheGlobalID("Article", b.ID)
	var bData struct {
		Article struct {
			Comments struct{ Nodes []struct{ ID string } }
		}
	}
	s.mustDo(t, "", `{ article(site: "demo", key: "cache-b") { comments(orderBy: OLDEST) { nodes { id } } } }`, nil, &bData)
	if len(bData.Article.Comments.Nodes) != 2 {
		t.Fatalf("article B has %d comments, want 2", len(bData.Article.Comments.Nodes))
	}
	commentB := bData.Article.Comments.Nodes[0].ID

	count := map[string]int{"A": 45, "B": 2}
	// Each query enters the articles it reads through another door; want renders the data expected for the
	// current counts.
	queries := []struct {
		name  string
		req   cacheReq
		reads string // the articles read: "A", "B" or "AB"
		want  func() string
	}{
		{"article A", postReq(`{ article(site: "demo", key: "social-credit") { commentCount } }`, nil), "A",
			func() string { return fmt.Sprintf(`{"article":{"commentCount":%d}}`, count["A"]) }},
		{"article B", postReq(`{ article(site: "demo", key: "cache-b") { commentCount } }`, nil), "B",
			func() string { return fmt.Sprintf(`{"article":{"commentCount":%d}}`, count["B"]) }},
		{"article B over GET", getReq(`{ article(site: "demo", key: "cache-b") { commentCount } }`, nil), "B",
			func() string { return fmt.Sprintf(`{"article":{"commentCount":%d}}`, count["B"]) }},
		{"site's article B", postReq(`{ site(slug: "demo") { article(key: "cache-b") { commentCount } } }`, nil), "B",
			func() string { return fmt.Sprintf(`{"site":{"article":{"commentCount":%d}}}`, count["B"]) }},
		{"node of a comment on B", postReq(`query($id: ID!) { node(id: $id) { ... on Comment { body article { commentCount } } } }`,
			map[string]any{"id": commentB}), "B",
			func() string {
				return fmt.Sprintf(`{"node":{"body":"B's first comment","article":{"commentCount":%d}}}`, count["B"])
			}},
		{"node of article B", postReq(`query($id: ID!) { node(id: $id) { ... on Article { commentCount } } }`,
			map[string]any{"id": idB}), "B",
			func() string { return fmt.Sprintf(`{"node":{"commentCount":%d}}`, count["B"]) }},
		{"aliased articles A and B", postReq(`{
			a: article(site: "demo", key: "social-credit") { commentCount }
			b: article(site: "demo", key: "cache-b") { commentCount } }`, nil), "AB",
			func() string {
				return fmt.Sprintf(`{"a":{"commentCount":%d},"b":{"commentCount":%d}}`, count["A"], count["B"])
			}},
		{"nodes of A and a comment on B", postReq(`query($ids: [ID!]!) { nodes(ids: $ids) {
			... on Article { commentCount } ... on Comment { article { commentCount } } } }`,
			map[string]any{"ids": []string{idA, commentB}}), "AB",
			func() string {
				return fmt.Sprintf(`{"nodes":[{"commentCount":%d},{"article":{"commentCount":%d}}]}`, count["A"], count["B"])
			}},
	}

	read := func(t *testing.T, what string, req cacheReq, want string) *cacheResp {
		t.Helper()
		r := s.cacheMust(t, req)
		var got json.RawMessage
		r.mustDecode(t, &got)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		if gj, _ := json.Marshal(g); !bytes.Equal(gj, mustMarshal(t, w)) {
			t.Errorf("%s: data %s, want %s", what, got, want)
		}
		return r
	}

	writes := []struct {
		name    string
		write   func(t *testing.T)
		touches string // "A", "B", or "all"
	}{
		{"comment on A", func(t *testing.T) { s.addComment(t, token, idA, "", "on A"); count["A"]++ }, "A"},
		{"comment on B", func(t *testing.T) { s.addComment(t, token, idB, "", "on B"); count["B"]++ }, "B"},
		{"like on B", func(t *testing.T) { s.mustDo(t, token, cacheLikeMutation, map[string]any{"id": commentB}, nil) }, "B"},
		{"second comment on A", func(t *testing.T) { s.addComment(t, token, idA, "", "on A again"); count["A"]++ }, "A"},
		{"import of article C", func(t *testing.T) {
			if _, err := s.Svc.ImportArticle(ctx, &thread.Article{SiteID: site.ID, Key: "cache-c", Title: "C"}, nil); err != nil {
				t.Fatal(err)
			}
		}, "all"},
		{"new site", func(t *testing.T) {
			if _, err := s.Svc.EnsureSite(ctx, "cache-site", "Another site"); err != nil {
				t.Fatal(err)
			}
		}, "all"},
	}

	// Fill the cache, once the event log's follower has read the writes above (on PostgreSQL).
	s.DB.Settle(t)
	for _, q := range queries {
		read(t, q.name+" (fill)", q.req, q.want())
		r := read(t, q.name+" (filled)", q.req, q.want())
		expectCacheStatus(t, q.name+" (filled)", r, cacheHit)
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			w.write(t)
			s.DB.Settle(t)
			for _, q := range queries {
				stale := w.touches == "all" || strings.Contains(q.reads, w.touches)
				r := read(t, q.name, q.req, q.want())
				if stale {
					expectCacheStatus(t, q.name, r, cacheMiss)
				} else {
					expectCacheStatus(t, q.name, r, cacheHit)
				}
				again := read(t, q.name+" again", q.req, q.want())
				expectCacheStatus(t, q.name+" again", again, cacheHit)
				expectSameBody(t, q.name+" again", again, r)
			}
		})
	}
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestCacheAuthorizedRequests(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	_, token := s.newReader(t, "Viewer Vic")
	const q = `{ viewer { displayName } article(site: "demo", key: "social-credit") { commentCount } }`
	anon := postReq(q, nil)
	const anonData = `{"viewer":null,"article":{"commentCount":45}}`
	const vicData = `{"viewer":{"displayName":"Viewer Vic"},"article":{"commentCount":45}}`

	// expect checks a response's status, its data (or that it has errors when data is ""), and that it was not
	// served from the cache when credentialed.
	expect := func(t *testing.T, what string, r *cacheResp, wantData string) {
		t.Helper()
		g, err := r.gql()
		if err != nil {
			t.Fatal(err)
		}
		if wantData == "" {
			if len(g.Errors) == 0 {
				t.Errorf("%s: no errors; data %s", what, g.Data)
			}
			return
		}
		if len(g.Errors) > 0 || string(g.Data) != wantData {
			t.Errorf("%s: data %s, errors %+v; want %s", what, g.Data, g.Errors, wantData)
		}
	}

	credentialed := []struct {
		name     string
		req      cacheReq
		wantData string // "" for an error
	}{
		{"valid token", anon.withHeader("Authorization", "Bearer "+token), vicData},
		{"valid token over GET", getReq(q, nil).withHeader("Authorization", "Bearer "+token), vicData},
		{"unknown token", anon.withHeader("Authorization", "Bearer tl_unknown"), ""},
		{"not a bearer token", anon.withHeader("Authorization", "Basic dXNlcjpwYXNz"), ""},
	}

	// Credentialed requests before any anonymous one: they must not fill the cache.
	for _, c := range credentialed {
		r := s.cacheMust(t, c.req)
		if r.cacheStatus == cacheHit {
			t.Errorf("%s: served from the cache", c.name)
		}
		expect(t, c.name+" (empty cache)", r, c.wantData)
	}
	first := s.cacheMust(t, anon)
	expectCacheStatus(t, "anonymous after credentialed requests", first, cacheMiss)
	expect(t, "anonymous after credentialed requests", first, anonData)
	firstGet := s.cacheMust(t, getReq(q, nil))
	expectCacheStatus(t, "anonymous GET after credentialed requests", firstGet, cacheMiss)
	hit := s.cacheMust(t, anon)
	expectCacheStatus(t, "anonymous again", hit, cacheHit)

	// With an anonymous entry in place: credentialed requests get their own answer and leave it alone.
	for _, c := range credentialed {
		for i := range 2 {
			r := s.cacheMust(t, c.req)
			if r.cacheStatus == cacheHit {
				t.Errorf("%s #%d: served from the cache", c.name, i+1)
			}
			expect(t, fmt.Sprintf("%s #%d", c.name, i+1), r, c.wantData)
		}
	}
	for _, req := range []cacheReq{anon, getReq(q, nil)} {
		r := s.cacheMust(t, req)
		expectCacheStatus(t, "anonymous "+req.method+" after credentialed requests", r, cacheHit)
		expect(t, "anonymous "+req.method+" after credentialed requests", r, anonData)
	}
	expectSameBody(t, "anonymous POST at the end", s.cacheMust(t, anon), first)
}

func TestCacheAnonymousMutations(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	req := postReq(`mutation { createReader(input: {site: "demo", displayName: "Twice"}) { reader { id displayName } token } }`, nil)
	seenTokens, seenIDs := map[string]bool{}, map[string]bool{}
	for i := range 3 {
		r := s.cacheMust(t, req)
		expectCacheStatus(t, fmt.Sprintf("createReader #%d", i+1), r, cacheMiss)
		var data struct {
			CreateReader struct {
				Reader struct{ ID, DisplayName string }
				Token  string
			}
		}
		r.mustDecode(t, &data)
		cr := data.CreateReader
		if cr.Token == "" || seenTokens[cr.Token] || cr.Reader.ID == "" || seenIDs[cr.Reader.ID] {
			t.Errorf("createReader #%d returned a token or reader seen before (or empty): %+v", i+1, cr)
		}
		seenTokens[cr.Token], seenIDs[cr.Reader.ID] = true, true
		// The token works: it belongs to a reader that really was created.
		var viewer struct{ Viewer struct{ ID string } }
		s.mustDo(t, cr.Token, `{ viewer { id } }`, nil, &viewer)
		if viewer.Viewer.ID != cr.Reader.ID {
			t.Errorf("createReader #%d: the token is %q's, want %q's", i+1, viewer.Viewer.ID, cr.Reader.ID)
		}
	}
}

func TestCacheSkipsUncacheableResponses(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	aid := s.articleID(t)
	var list struct {
		Article struct {
			Comments struct{ Nodes []struct{ ID string } }
		}
	}
	s.mustDo(t, "", `{ article(site: "demo", key: "social-credit") { comments(first: 1, orderBy: OLDEST) { nodes { id } } } }`, nil, &list)
	existing := list.Article.Comments.Nodes[0].ID
	missingComment := cacheGlobalID("Comment", 987654321)
	missingArticle := cacheGlobalID("Article", 987654321)
	const nodeQuery = `query($id: ID!) { node(id: $id) { id } }`

	tests := []struct {
		name      string
		req       cacheReq
		cacheable bool
		errors    bool // whether the response carries errors
	}{
		{"node of an existing comment (control)", postReq(nodeQuery, map[string]any{"id": existing}), true, false},
		{"article (control)", getReq(`{ article(site: "demo", key: "social-credit") { id } }`, nil), true, false},
		{"node of a missing comment", postReq(nodeQuery, map[string]any{"id": missingComment}), false, false},
		{"node of a missing comment over GET", getReq(nodeQuery, map[string]any{"id": missingComment}), false, false},
		{"node of a missing article", postReq(nodeQuery, map[string]any{"id": missingArticle}), false, false},
		{"node of an unknown kind", postReq(nodeQuery, map[string]any{"id": cacheGlobalID("Widget", 1)}), false, false},
		{"nodes with one missing", postReq(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": []string{existing, missingComment}}), false, false},
		{"malformed ID", postReq(nodeQuery, map[string]any{"id": "not an id"}), false, true},
		{"syntax error", postReq(`{ article(site: "demo"`, nil), false, true},
		{"unknown field", postReq(`{ article(site: "demo", key: "social-credit") { nope } }`, nil), false, true},
		{"negative first", postReq(`{ article(site: "demo", key: "social-credit") { comments(first: -1) { totalCount } } }`, nil), false, true},
		{"bad cursor", postReq(`{ article(site: "demo", key: "social-credit") { comments(after: "garbage") { totalCount } } }`, nil), false, true},
		{"partial data with an error", postReq(`query($id: ID!) {
			article(site: "demo", key: "social-credit") { commentCount }
			node(id: $id) { id } }`, map[string]any{"id": "not an id"}), false, true},
		{"viewer of an anonymous request is not an error", postReq(`{ viewer { id } }`, nil), true, false},
		{"missing variable", postReq(nodeQuery, nil), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first *cacheResp
			for i := range 3 {
				r := s.cacheMust(t, tt.req)
				g, err := r.gql()
				if err != nil {
					t.Fatal(err)
				}
				if (len(g.Errors) > 0) != tt.errors {
					t.Fatalf("#%d: errors %+v, want errors: %v", i+1, g.Errors, tt.errors)
				}
				want := cacheMiss
				if tt.cacheable && i > 0 {
					want = cacheHit
				}
				expectCacheStatus(t, fmt.Sprintf("#%d", i+1), r, want)
				if first == nil {
					first = r
				} else if !bytes.Equal(first.body, r.body) {
					t.Errorf("#%d: body %s differs from the first %s", i+1, r.body, first.body)
				}
			}
		})
	}

	// Why a missing object must not be cached: it may be created later, and its creation is a write to an
	// article the response never noted. The next comment gets the next ID.
	t.Run("a missing comment that appears", func(t *testing.T) {
		next := cacheGlobalID("Comment", cacheDBID(t, s.addComment(t, s.mustToken(t), aid, "", "placeholder"))+1)
		req := postReq(`query($id: ID!) { node(id: $id) { id ... on Comment { body } } }`, map[string]any{"id": next})
		for i := range 2 {
			r := s.cacheMust(t, req)
			expectCacheStatus(t, fmt.Sprintf("missing #%d", i+1), r, cacheMiss)
			var data struct{ Node *struct{ ID string } }
			r.mustDecode(t, &data)
			if data.Node != nil {
				t.Fatalf("node %s exists already", next)
			}
		}
		created := s.addComment(t, s.mustToken(t), aid, "", "now it exists")
		if created != next {
			t.Fatalf("the new comment is %s, want %s", created, next)
		}
		r := s.cacheMust(t, req)
		var data struct{ Node *struct{ ID, Body string } }
		r.mustDecode(t, &data)
		if data.Node == nil || data.Node.Body != "now it exists" {
			t.Errorf("after it was created, node(%s) = %+v (Cache-Status %q)", next, data.Node, r.cacheStatus)
		}
	})
}

// mustToken returns the token of a new reader.
func (s *testServer) mustToken(tb testing.TB) string {
	tb.Helper()
	_, token := s.newReader(tb, "Token Holder")
	return token
}

// A response larger than the cache keeps is served whole, and not kept.
func TestCacheSkipsLargeResponses(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	aid := s.articleID(t)
	token := s.mustToken(t)
	// 60 comments of 10,000 characters, each shown twice (body and bodyHTML): over 1 MiB.
	for i := range 60 {
		s.addComment(t, token, aid, "", fmt.Sprintf("%04d%s", i, strings.Repeat("x", thread.MaxBodyChars-4)))
	}
	req := postReq(`{ article(site: "demo", key: "social-credit") { comments(first: 100, orderBy: NEWEST) { nodes { body bodyHTML } } } }`, nil)
	for i := range 2 {
		r := s.cacheMust(t, req)
		expectCacheStatus(t, fmt.Sprintf("#%d", i+1), r, cacheMiss)
		if len(r.body) <= 1<<20 {
			t.Fatalf("the response has %d bytes; the test needs more than 1 MiB", len(r.body))
		}
		var data struct {
			Article struct {
				Comments struct {
					Nodes []struct{ Body, BodyHTML string }
				}
			}
		}
		r.mustDecode(t, &data)
		if n := data.Article.Comments.Nodes; len(n) != 100 || !strings.HasPrefix(n[0].Body, "0059") || len(n[0].Body) != thread.MaxBodyChars {
			t.Errorf("#%d: %d nodes, the first body starting %.8q", i+1, len(n), n[0].Body)
		}
	}
	// A small query is still cached: the cache works on this server.
	small := postReq(`{ article(site: "demo", key: "social-credit") { commentCount } }`, nil)
	s.cacheMust(t, small)
	expectCacheStatus(t, "small query again", s.cacheMust(t, small), cacheHit)
}

// Readers and writers at once: whatever the interleaving, once a write has answered, no anonymous read may be
// served a response computed before it, and once the writers are done every read shows the final thread. Run
// with -race.
func TestCacheConcurrentReadsAndWrites(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	aid := s.articleID(t)
	const writers, perWriter, readers = 4, 15, 6
	const total = 45 + writers*perWriter
	tokens := make([]string, writers)
	for i := range tokens {
		_, tokens[i] = s.newReader(t, fmt.Sprintf("Writer %d", i))
	}

	// Every read lists the 100 newest comments, more than the writers add, so each new comment is in it.
	const newestQuery = `{ article(site: "demo", key: "social-credit") {
		commentCount comments(first: 100, orderBy: NEWEST) { totalCount nodes { body } } } }`
	reads := []cacheReq{postReq(newestQuery, nil), getReq(newestQuery, nil)}
	type newest struct {
		Article struct {
			CommentCount int
			Comments     struct {
				TotalCount int
				Nodes      []struct{ Body string }
			}
		}
	}
	read := func(req cacheReq) (*cacheResp, *newest, error) {
		r, err := s.cacheSend(req)
		if err != nil {
			return nil, nil, err
		}
		var d newest
		if err := r.decode(&d); err != nil {
			return nil, nil, err
		}
		return r, &d, nil
	}
	has := func(d *newest, body string) bool {
		for _, n := range d.Article.Comments.Nodes {
			if n.Body == body {
				return true
			}
		}
		return false
	}

	stop := make(chan struct{})
	var readersWG, writersWG sync.WaitGroup
	for i := range readers {
		readersWG.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				_, d, err := read(reads[(i+n)%len(reads)])
				if err != nil {
					t.Errorf("reader %d: %v", i, err)
					return
				}
				if c := d.Article.CommentCount; c < 45 || c > total {
					t.Errorf("reader %d: commentCount %d out of [45, %d]", i, c, total)
					return
				}
			}
		})
	}
	for w := range writers {
		writersWG.Go(func() {
			for k := range perWriter {
				body := fmt.Sprintf("writer %d comment %d", w, k)
				r, err := s.cacheSend(postReq(`mutation($a: ID!, $b: String!) { addComment(input: {articleId: $a, body: $b}) { comment { id } } }`,
					map[string]any{"a": aid, "b": body}).withHeader("Authorization", "Bearer "+tokens[w]))
				if err == nil {
					err = r.decode(nil)
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				// Read your writes: the mutation answers after the cache heard of it, so from now on every
				// anonymous read shows the comment.
				for _, req := range reads {
					r, d, err := read(req)
					if err != nil {
						t.Errorf("writer %d: %v", w, err)
						return
					}
					if !has(d, body) || d.Article.CommentCount < 45+k+1 {
						t.Errorf("writer %d: after its comment %d was posted, a %s read (Cache-Status %q) misses it (commentCount %d)",
							w, k, req.method, r.cacheStatus, d.Article.CommentCount)
					}
				}
			}
		})
	}
	writersWG.Wait()
	close(stop)
	readersWG.Wait()
	if t.Failed() {
		t.FailNow()
	}

	a, err := s.Svc.Article(context.Background(), "demo", "social-credit")
	if err != nil || a.CommentCount != total {
		t.Fatalf("the store counts %v comments (%v), want %d", a.CommentCount, err, total)
	}
	s.DB.Settle(t) // the event log's follower has read the writers' comments (on PostgreSQL)
	for _, req := range reads {
		for i := range 2 {
			r, d, err := read(req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Article.CommentCount != total || d.Article.Comments.TotalCount != total {
				t.Errorf("%s #%d after the writers (Cache-Status %q): commentCount %d, totalCount %d; want %d",
					req.method, i+1, r.cacheStatus, d.Article.CommentCount, d.Article.Comments.TotalCount, total)
			}
			for w := range writers {
				if body := fmt.Sprintf("writer %d comment %d", w, perWriter-1); !has(d, body) {
					t.Errorf("%s #%d after the writers: %q is missing", req.method, i+1, body)
				}
			}
			if i == 1 {
				expectCacheStatus(t, req.method+" second read after the writers", r, cacheHit)
			}
		}
	}
}
