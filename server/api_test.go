package server_test

// End-to-end tests of the GraphQL API through the real HTTP server (see harness_test.go): every query, every
// mutation, pagination, errors and the HTTP surface, checked against schema.graphqls and the sample thread.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/threadtext"
)

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------------------------

// documentedCodes are the codes schema.graphqls (enum ErrorCode) and the persisted-query protocol promise in
// extensions.code.
var documentedCodes = map[string]bool{
	"BAD_USER_INPUT":            true,
	"UNAUTHENTICATED":           true,
	"FORBIDDEN":                 true,
	"NOT_FOUND":                 true,
	"RATE_LIMITED":              true,
	"QUERY_TOO_COMPLEX":         true,
	"CONFLICT":                  true,
	"INTERNAL":                  true,
	"PERSISTED_QUERY_NOT_FOUND": true,
}

// expectError asserts that r failed with code want as its first error, and that every error it carries has an
// extensions.code from the documented set. Every error case of this file goes through it.
func expectError(tb testing.TB, r *gqlResponse, want string) {
	tb.Helper()
	if !documentedCodes[want] {
		tb.Fatalf("test bug: %q is not a documented code", want)
	}
	if len(r.Errors) == 0 {
		tb.Fatalf("want a %s error, got none (HTTP %d); data: %s", want, r.status, r.Data)
	}
	for i, e := range r.Errors {
		code, ok := e.Extensions["code"].(string)
		if !ok || !documentedCodes[code] {
			tb.Errorf("error %d (%q, HTTP %d) has extensions.code %#v, not one of the documented codes", i, e.Message, r.status, e.Extensions["code"])
		}
	}
	if got := r.code(); got != want {
		tb.Errorf("extensions.code = %q, want %q (message %q, HTTP %d)", got, want, r.Errors[0].Message, r.status)
	}
	if r.status >= 500 {
		tb.Errorf("HTTP status %d for a client error", r.status)
	}
}

// httpResult is a raw HTTP response.
type httpResult struct {
	status int
	header http.Header
	body   []byte
}

// gql decodes the response as a GraphQL response.
func (h *httpResult) gql(tb testing.TB) *gqlResponse {
	tb.Helper()
	var out gqlResponse
	if err := json.Unmarshal(h.body, &out); err != nil {
		tb.Fatalf("response (HTTP %d, %s) is not GraphQL JSON: %v\n%s", h.status, h.header.Get("Content-Type"), err, h.body)
	}
	out.status = h.status
	return &out
}

// raw sends any HTTP request to the server.
func (s *testServer) raw(tb testing.TB, method, path string, header map[string]string, body io.Reader) *httpResult {
	tb.Helper()
	return fetch(tb, method, s.URL+path, header, body)
}

// fetch sends any HTTP request to url and reads the whole response.
func fetch(tb testing.TB, method, url string, header map[string]string, body io.Reader) *httpResult {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return &httpResult{status: resp.StatusCode, header: resp.Header, body: b}
}

// post sends a GraphQL request as JSON with the given headers, and extensions when not nil.
func (s *testServer) post(tb testing.TB, header map[string]string, query string, vars, extensions map[string]any) *httpResult {
	tb.Helper()
	req := map[string]any{}
	if query != "" {
		req["query"] = query
	}
	if vars != nil {
		req["variables"] = vars
	}
	if extensions != nil {
		req["extensions"] = extensions
	}
	b, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	return s.raw(tb, http.MethodPost, "/graphql", h, bytes.NewReader(b))
}

// get sends a GraphQL request as GET with the given URL parameters.
func (s *testServer) get(tb testing.TB, header map[string]string, params url.Values) *httpResult {
	tb.Helper()
	return s.raw(tb, http.MethodGet, "/graphql?"+params.Encode(), header, nil)
}

// decodeData decodes a successful response's data into v.
func decodeData(tb testing.TB, r *gqlResponse, v any) {
	tb.Helper()
	if len(r.Errors) > 0 {
		tb.Fatalf("unexpected errors (HTTP %d): %+v", r.status, r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		tb.Fatalf("decode data: %v\n%s", err, r.Data)
	}
}

// commentFragment is what the tests read of a comment.
const commentFragment = `
fragment C on Comment {
  id body bodyHTML createdAt editedAt status depth likeCount viewerHasLiked viewerCanEdit replyCount
  author { id displayName }
  parent { id }
  article { id commentCount }
}`

type readerJSON struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

type commentJSON struct {
	ID             string      `json:"id"`
	Body           string      `json:"body"`
	BodyHTML       string      `json:"bodyHTML"`
	CreatedAt      string      `json:"createdAt"`
	EditedAt       *string     `json:"editedAt"`
	Status         string      `json:"status"`
	Depth          int         `json:"depth"`
	LikeCount      int         `json:"likeCount"`
	ViewerHasLiked bool        `json:"viewerHasLiked"`
	ViewerCanEdit  bool        `json:"viewerCanEdit"`
	ReplyCount     int         `json:"replyCount"`
	Author         *readerJSON `json:"author"`
	Parent         *struct {
		ID string `json:"id"`
	} `json:"parent"`
	Article *struct {
		ID           string `json:"id"`
		CommentCount int    `json:"commentCount"`
	} `json:"article"`
	Replies *connJSON `json:"replies"`
}

type connJSON struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	Edges []struct {
		Cursor string      `json:"cursor"`
		Node   commentJSON `json:"node"`
	} `json:"edges"`
	Nodes []struct {
		ID string `json:"id"`
	} `json:"nodes"`
}

// ids returns the IDs of the page's comments, from edges, after checking that nodes says the same.
func (c *connJSON) ids(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, e := range c.Edges {
		out = append(out, e.Node.ID)
	}
	var nodes []string
	for _, n := range c.Nodes {
		nodes = append(nodes, n.ID)
	}
	if !slices.Equal(out, nodes) {
		tb.Errorf("edges { node } = %v but nodes = %v", out, nodes)
	}
	return out
}

const topPageQuery = `query($first: Int, $after: String, $order: CommentOrder!) {
  article(site: "demo", key: "social-credit") {
    commentCount
    comments(first: $first, after: $after, orderBy: $order) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...C replies { totalCount nodes { id } } } }
      nodes { id }
    }
  }
}` + commentFragment

type pageData struct {
	Article struct {
		CommentCount int      `json:"commentCount"`
		Comments     connJSON `json:"comments"`
	} `json:"article"`
}

// pageVars returns the variables of topPageQuery; first < -1000 leaves first out, after "" leaves after out.
func pageVars(order string, first int, after string) map[string]any {
	v := map[string]any{"order": order}
	if first > -1000 {
		v["first"] = first
	}
	if after != "" {
		v["after"] = after
	}
	return v
}

// page reads one page of the sample article's top-level comments.
func (s *testServer) page(tb testing.TB, token, order string, first int, after string) (conn connJSON, commentCount int) {
	tb.Helper()
	var data pageData
	s.mustDo(tb, token, topPageQuery, pageVars(order, first, after), &data)
	return data.Article.Comments, data.Article.CommentCount
}

// all reads every top-level comment of the sample article in one page of 100, in order.
func (s *testServer) all(tb testing.TB, token, order string) []commentJSON {
	tb.Helper()
	conn, _ := s.page(tb, token, order, 100, "")
	if conn.PageInfo.HasNextPage {
		tb.Fatalf("more than 100 top-level comments")
	}
	if len(conn.Edges) != conn.TotalCount {
		tb.Fatalf("%s: %d comments but totalCount %d", order, len(conn.Edges), conn.TotalCount)
	}
	out := make([]commentJSON, len(conn.Edges))
	for i, e := range conn.Edges {
		out[i] = e.Node
	}
	return out
}

func idsOf(cs []commentJSON) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// comment reads one comment by ID with its first replies; nil when node answers null.
func (s *testServer) comment(tb testing.TB, token, id string) *commentJSON {
	tb.Helper()
	var data struct {
		Node *commentJSON `json:"node"`
	}
	s.mustDo(tb, token, `query($id: ID!) { node(id: $id) { ... on Comment { ...C replies(first: 100) {
		totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { ...C } } nodes { id } } } } }`+commentFragment,
		map[string]any{"id": id}, &data)
	return data.Node
}

// commentCount returns the sample article's commentCount and its comments' totalCount.
func (s *testServer) counts(tb testing.TB) (commentCount, totalCount int) {
	tb.Helper()
	var data struct {
		Article struct {
			CommentCount int `json:"commentCount"`
			Comments     struct {
				TotalCount int `json:"totalCount"`
			} `json:"comments"`
		} `json:"article"`
	}
	s.mustDo(tb, "", `{ article(site: "demo", key: "social-credit") { commentCount comments { totalCount } } }`, nil, &data)
	return data.Article.CommentCount, data.Article.Comments.TotalCount
}

const addCommentMutation = `mutation($a: ID!, $p: ID, $b: String!) {
  addComment(input: {articleId: $a, parentId: $p, body: $b}) { comment { ...C } }
}` + commentFragment

func addVars(article, parent, body string) map[string]any {
	v := map[string]any{"a": article, "b": body}
	if parent != "" {
		v["p"] = parent
	}
	return v
}

// add posts a comment and returns it as the payload shows it.
func (s *testServer) add(tb testing.TB, token, article, parent, body string) commentJSON {
	tb.Helper()
	var data struct {
		AddComment struct {
			Comment commentJSON `json:"comment"`
		} `json:"addComment"`
	}
	s.mustDo(tb, token, addCommentMutation, addVars(article, parent, body), &data)
	if data.AddComment.Comment.ID == "" {
		tb.Fatalf("addComment returned no comment")
	}
	return data.AddComment.Comment
}

// commentMutation runs one of the mutations that take {commentId} (and body for editComment) and return
// { comment }.
func (s *testServer) commentMutation(tb testing.TB, token, field, id string, extra string) *gqlResponse {
	tb.Helper()
	q := fmt.Sprintf(`mutation($id: ID!) { %s(input: {commentId: $id%s}) { comment { ...C } } }`, field, extra) + commentFragment
	return s.do(tb, token, q, map[string]any{"id": id})
}

func (s *testServer) mutateComment(tb testing.TB, token, field, id, extra string) commentJSON {
	tb.Helper()
	r := s.commentMutation(tb, token, field, id, extra)
	var data map[string]struct {
		Comment commentJSON `json:"comment"`
	}
	decodeData(tb, r, &data)
	c := data[field].Comment
	if c.ID == "" {
		tb.Fatalf("%s returned no comment: %s", field, r.Data)
	}
	return c
}

const editMutation = `mutation($id: ID!, $b: String!) { editComment(input: {commentId: $id, body: $b}) { comment { ...C } } }` + commentFragment

const deleteMutation = `mutation($id: ID!) { deleteComment(input: {commentId: $id}) { deletedCommentId comment { ...C } } }` + commentFragment

type deletePayload struct {
	DeleteComment struct {
		DeletedCommentID string       `json:"deletedCommentId"`
		Comment          *commentJSON `json:"comment"`
	} `json:"deleteComment"`
}

func (s *testServer) remove(tb testing.TB, token, id string) deletePayload {
	tb.Helper()
	var data deletePayload
	s.mustDo(tb, token, deleteMutation, map[string]any{"id": id}, &data)
	if data.DeleteComment.DeletedCommentID != id {
		tb.Errorf("deletedCommentId = %q, want %q", data.DeleteComment.DeletedCommentID, id)
	}
	return data
}

// splitID decodes a global ID as the server makes them today. The tests use it only to make well-formed IDs of
// objects that do not exist (mkID), and check first that it round-trips a real ID.
func splitID(tb testing.TB, id string) (kind string, n int64) {
	tb.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		tb.Fatalf("global ID %q is not URL-safe base64: %v", id, err)
	}
	kind, num, ok := strings.Cut(string(raw), ":")
	if !ok {
		tb.Fatalf("global ID %q decodes to %q, not Kind:number", id, raw)
	}
	n, err = strconv.ParseInt(num, 10, 64)
	if err != nil {
		tb.Fatalf("global ID %q decodes to %q, not Kind:number", id, raw)
	}
	return kind, n
}

func mkID(kind string, n int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(n, 10)))
}

// unknownID returns a well-formed ID of the same kind as real that names no object.
func unknownID(tb testing.TB, real string) string {
	tb.Helper()
	kind, n := splitID(tb, real)
	if mkID(kind, n) != real {
		tb.Fatalf("the test's ID encoding does not round-trip %q", real)
	}
	return mkID(kind, 987654321)
}

// sample is the sample thread as written, the oracle for what the server must show.
func sample(tb testing.TB) *threadtext.Thread {
	tb.Helper()
	t, err := threadtext.Parse(bytes.NewReader(seed.SocialCredit))
	if err != nil {
		tb.Fatal(err)
	}
	if len(t.Comments) != 45 {
		tb.Fatalf("the sample has %d comments, want 45", len(t.Comments))
	}
	return t
}

// anonymous are the 1-based numbers of the sample's comments without an author.
var anonymous = []int{1, 2, 6, 7, 8, 11, 12, 13, 20, 23, 24, 26, 27, 28, 33, 36, 38, 39, 41, 43, 45}

var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

func parseDateTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	if !dateTimeRE.MatchString(s) {
		tb.Fatalf("DateTime %q is not RFC 3339 in UTC with milliseconds", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Queries
// ---------------------------------------------------------------------------------------------------------------

// ids gathers one real ID of each type.
type knownIDs struct{ site, article, comment3, reader, author3 string }

func (s *testServer) knownIDs(tb testing.TB, readerID string) knownIDs {
	tb.Helper()
	var data struct {
		Site struct {
			ID string `json:"id"`
		} `json:"site"`
		Article struct {
			ID       string `json:"id"`
			Comments struct {
				Nodes []struct {
					ID     string      `json:"id"`
					Author *readerJSON `json:"author"`
				} `json:"nodes"`
			} `json:"comments"`
		} `json:"article"`
	}
	s.mustDo(tb, "", `{ site(slug: "demo") { id } article(site: "demo", key: "social-credit") { id
		comments(first: 3, orderBy: OLDEST) { nodes { id author { id displayName } } } } }`, nil, &data)
	nodes := data.Article.Comments.Nodes
	if len(nodes) != 3 || nodes[2].Author == nil {
		tb.Fatalf("want 3 comments, the third with an author: %+v", nodes)
	}
	ids := knownIDs{site: data.Site.ID, article: data.Article.ID, comment3: nodes[2].ID, reader: readerID, author3: nodes[2].Author.ID}
	for _, id := range []string{ids.site, ids.article, ids.comment3, ids.reader, ids.author3} {
		if id == "" {
			tb.Fatalf("empty ID among %+v", ids)
		}
	}
	return ids
}

const nodeQuery = `query($id: ID!) { node(id: $id) { __typename id
  ... on Site { slug name }
  ... on Article { key title }
  ... on Comment { body author { displayName } }
  ... on Reader { displayName }
} }`

type nodeJSON struct {
	Typename    string `json:"__typename"`
	ID          string `json:"id"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Key         string `json:"key"`
	Title       string `json:"title"`
	Body        string `json:"body"`
	DisplayName string `json:"displayName"`
	Author      *struct {
		DisplayName string `json:"displayName"`
	} `json:"author"`
}

func TestQueryNode(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	sm := sample(t)
	readerID, _ := s.newReader(t, "Node Reader")
	ids := s.knownIDs(t, readerID)

	// Global IDs are unique across types.
	all := []string{ids.site, ids.article, ids.comment3, ids.reader, ids.author3}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Errorf("ID %q is used twice among %v", id, all)
		}
		seen[id] = true
	}

	found := []struct {
		name  string
		id    string
		check func(t *testing.T, n nodeJSON)
	}{
		{"site", ids.site, func(t *testing.T, n nodeJSON) {
			if n.Typename != "Site" || n.Slug != "demo" || n.Name != "Threadline demo" {
				t.Errorf("got %+v", n)
			}
		}},
		{"article", ids.article, func(t *testing.T, n nodeJSON) {
			if n.Typename != "Article" || n.Key != "social-credit" || n.Title != sm.Title {
				t.Errorf("got %+v", n)
			}
		}},
		{"comment", ids.comment3, func(t *testing.T, n nodeJSON) {
			if n.Typename != "Comment" || n.Body != strings.TrimSpace(sm.Comments[2].Body) || n.Author == nil || n.Author.DisplayName != "Lianne Abrahams" {
				t.Errorf("got %+v", n)
			}
		}},
		{"reader", ids.reader, func(t *testing.T, n nodeJSON) {
			if n.Typename != "Reader" || n.DisplayName != "Node Reader" {
				t.Errorf("got %+v", n)
			}
		}},
		{"imported author", ids.author3, func(t *testing.T, n nodeJSON) {
			if n.Typename != "Reader" || n.DisplayName != "Lianne Abrahams" {
				t.Errorf("got %+v", n)
			}
		}},
	}
	for _, tc := range found {
		t.Run("found/"+tc.name, func(t *testing.T) {
			var data struct{ Node *nodeJSON }
			s.mustDo(t, "", nodeQuery, map[string]any{"id": tc.id}, &data)
			if data.Node == nil {
				t.Fatalf("node(%q) is null", tc.id)
			}
			if data.Node.ID != tc.id {
				t.Errorf("id = %q, want %q", data.Node.ID, tc.id)
			}
			tc.check(t, *data.Node)
		})
	}

	missing := []struct{ name, id string }{
		{"site", unknownID(t, ids.site)},
		{"article", unknownID(t, ids.article)},
		{"comment", unknownID(t, ids.comment3)},
		{"reader", unknownID(t, ids.reader)},
		{"unknown kind", mkID("Widget", 1)},
	}
	for _, tc := range missing {
		t.Run("missing/"+tc.name, func(t *testing.T) {
			r := s.do(t, "", nodeQuery, map[string]any{"id": tc.id})
			if len(r.Errors) > 0 {
				t.Fatalf("errors for a well-formed unknown ID: %+v", r.Errors)
			}
			if got := strings.Join(strings.Fields(string(r.Data)), ""); got != `{"node":null}` {
				t.Errorf("data = %s, want node null", r.Data)
			}
		})
	}

	malformed := []struct{ name, id string }{
		{"not base64", "not an ID!"},
		{"empty", ""},
		{"no colon", base64.RawURLEncoding.EncodeToString([]byte("Comment"))},
		{"not a number", base64.RawURLEncoding.EncodeToString([]byte("Comment:abc"))},
		{"zero", mkID("Comment", 0)},
		{"negative", mkID("Comment", -3)},
		{"too long", strings.Repeat("QQ", 40)},
	}
	for _, tc := range malformed {
		t.Run("malformed/"+tc.name, func(t *testing.T) {
			r := s.do(t, "", nodeQuery, map[string]any{"id": tc.id})
			expectError(t, r, "BAD_USER_INPUT")
		})
	}
}

func TestQueryNodes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	readerID, _ := s.newReader(t, "Nodes Reader")
	ids := s.knownIDs(t, readerID)
	q := `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`

	t.Run("order and nulls", func(t *testing.T) {
		in := []string{ids.comment3, unknownID(t, ids.article), ids.site, ids.reader, unknownID(t, ids.comment3), ids.article, ids.comment3}
		var data struct {
			Nodes []*struct {
				Typename string `json:"__typename"`
				ID       string `json:"id"`
			} `json:"nodes"`
		}
		s.mustDo(t, "", q, map[string]any{"ids": in}, &data)
		if len(data.Nodes) != len(in) {
			t.Fatalf("%d nodes for %d IDs", len(data.Nodes), len(in))
		}
		wantType := []string{"Comment", "", "Site", "Reader", "", "Article", "Comment"}
		for i, n := range data.Nodes {
			switch {
			case wantType[i] == "" && n != nil:
				t.Errorf("nodes[%d] = %+v, want null", i, n)
			case wantType[i] != "" && n == nil:
				t.Errorf("nodes[%d] = null, want the %s %s", i, wantType[i], in[i])
			case wantType[i] != "" && (n.ID != in[i] || n.Typename != wantType[i]):
				t.Errorf("nodes[%d] = %+v, want the %s %s", i, n, wantType[i], in[i])
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		var data struct{ Nodes []any }
		s.mustDo(t, "", q, map[string]any{"ids": []string{}}, &data)
		if data.Nodes == nil || len(data.Nodes) != 0 {
			t.Errorf("nodes = %#v, want []", data.Nodes)
		}
	})
	t.Run("malformed among them", func(t *testing.T) {
		expectError(t, s.do(t, "", q, map[string]any{"ids": []string{ids.site, "%%%"}}), "BAD_USER_INPUT")
	})
	t.Run("more than 100", func(t *testing.T) {
		many := make([]string, 101)
		for i := range many {
			many[i] = ids.site
		}
		expectError(t, s.do(t, "", q, map[string]any{"ids": many}), "BAD_USER_INPUT")
	})
}

func TestQuerySiteAndArticle(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	sm := sample(t)
	articleID := s.articleID(t)

	t.Run("site found", func(t *testing.T) {
		var data struct {
			Site *struct {
				ID      string `json:"id"`
				Slug    string `json:"slug"`
				Name    string `json:"name"`
				Article *struct {
					ID string `json:"id"`
				} `json:"article"`
				Missing *struct {
					ID string `json:"id"`
				} `json:"missing"`
			} `json:"site"`
		}
		s.mustDo(t, "", `{ site(slug: "demo") { id slug name article(key: "social-credit") { id } missing: article(key: "nope") { id } } }`, nil, &data)
		if data.Site == nil {
			t.Fatal("site(slug: demo) is null")
		}
		if data.Site.ID == "" || data.Site.Slug != "demo" || data.Site.Name != "Threadline demo" {
			t.Errorf("site = %+v", data.Site)
		}
		if data.Site.Article == nil || data.Site.Article.ID != articleID {
			t.Errorf("site.article(key: social-credit) = %+v, want %s", data.Site.Article, articleID)
		}
		if data.Site.Missing != nil {
			t.Errorf("site.article(key: nope) = %+v, want null", data.Site.Missing)
		}
	})

	nullCases := []struct{ name, query string }{
		{"site missing", `{ site(slug: "no-such-site") { id } }`},
		{"article of missing site", `{ article(site: "no-such-site", key: "social-credit") { id } }`},
		{"article missing key", `{ article(site: "demo", key: "no-such-article") { id } }`},
	}
	for _, tc := range nullCases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, "", tc.query, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("errors: %+v", r.Errors)
			}
			var data map[string]any
			decodeData(t, r, &data)
			if len(data) != 1 {
				t.Fatalf("data = %s", r.Data)
			}
			for k, v := range data {
				if v != nil {
					t.Errorf("%s = %v, want null", k, v)
				}
			}
		})
	}

	t.Run("article fields", func(t *testing.T) {
		var data struct {
			Article *struct {
				ID           string  `json:"id"`
				Key          string  `json:"key"`
				URL          *string `json:"url"`
				Title        string  `json:"title"`
				Standfirst   string  `json:"standfirst"`
				Body         string  `json:"body"`
				Locked       *bool   `json:"locked"`
				CommentCount int     `json:"commentCount"`
				Site         struct {
					Slug string `json:"slug"`
					Name string `json:"name"`
				} `json:"site"`
				Comments struct {
					TotalCount int `json:"totalCount"`
				} `json:"comments"`
			} `json:"article"`
		}
		r := s.do(t, "", `{ article(site: "demo", key: "social-credit") {
			id key url title standfirst body locked commentCount site { slug name } comments { totalCount } } }`, nil)
		decodeData(t, r, &data)
		a := data.Article
		if a == nil {
			t.Fatal("article is null")
		}
		if !strings.Contains(string(r.Data), `"url":null`) {
			t.Errorf("url is not null: %s", r.Data)
		}
		if a.ID != articleID || a.Key != "social-credit" || a.URL != nil {
			t.Errorf("id/key/url = %q %q %v", a.ID, a.Key, a.URL)
		}
		if a.Title != sm.Title || a.Title != "Social Credit: China's Digital Dystopia In The Making" {
			t.Errorf("title = %q", a.Title)
		}
		if a.Standfirst != sm.Standfirst || a.Standfirst == "" {
			t.Errorf("standfirst = %q, want %q", a.Standfirst, sm.Standfirst)
		}
		if want := strings.Join(sm.Body, "\n\n"); a.Body != want || a.Body == "" {
			t.Errorf("body = %q, want %q", a.Body, want)
		}
		if a.Locked == nil || *a.Locked {
			t.Errorf("locked = %v, want false", a.Locked)
		}
		if a.CommentCount != 45 || a.Comments.TotalCount != 45 {
			t.Errorf("commentCount = %d, comments.totalCount = %d, want 45 and 45", a.CommentCount, a.Comments.TotalCount)
		}
		if a.Site.Slug != "demo" || a.Site.Name != "Threadline demo" {
			t.Errorf("site = %+v", a.Site)
		}
	})
}

func TestQueryViewer(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	readerID, token := s.newReader(t, "Viewer Reader")
	q := `{ viewer { id displayName } }`

	ok := []struct {
		name, auth string
		want       *readerJSON
	}{
		{"no token", "", nil},
		{"valid token", "Bearer " + token, &readerJSON{ID: readerID, DisplayName: "Viewer Reader"}},
		{"scheme in lower case", "bearer " + token, &readerJSON{ID: readerID, DisplayName: "Viewer Reader"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.auth != "" {
				h["Authorization"] = tc.auth
			}
			r := s.post(t, h, q, nil, nil).gql(t)
			var data struct{ Viewer *readerJSON }
			decodeData(t, r, &data)
			if !strings.Contains(string(r.Data), `"viewer"`) {
				t.Fatalf("no viewer in %s", r.Data)
			}
			switch {
			case tc.want == nil && data.Viewer != nil:
				t.Errorf("viewer = %+v, want null", data.Viewer)
			case tc.want != nil && (data.Viewer == nil || *data.Viewer != *tc.want):
				t.Errorf("viewer = %+v, want %+v", data.Viewer, tc.want)
			}
		})
	}

	refused := []struct{ name, auth string }{
		{"unknown token", "Bearer tl_" + strings.Repeat("A", 43)},
		{"not a Threadline token", "Bearer abc.def.ghi"},
		{"basic scheme", "Basic x"},
		{"bearer without token", "Bearer"},
		{"bearer with blank token", "Bearer    "},
		{"token without scheme", token},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := s.post(t, map[string]string{"Authorization": tc.auth}, q, nil, nil).gql(t)
			expectError(t, r, "UNAUTHENTICATED")
		})
	}

	t.Run("bad token still reads anonymously", func(t *testing.T) {
		r := s.post(t, map[string]string{"Authorization": "Bearer tl_unknown"}, `{ site(slug: "demo") { slug } }`, nil, nil).gql(t)
		var data struct{ Site struct{ Slug string } }
		decodeData(t, r, &data)
		if data.Site.Slug != "demo" {
			t.Errorf("site = %s", r.Data)
		}
	})
}

func TestCommentFields(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	sm := sample(t)
	articleID := s.articleID(t)
	_, token := s.newReader(t, "Field Reader")

	// Every field of the fragment is present in the JSON, so that no zero value below passes by absence.
	t.Run("all fields present", func(t *testing.T) {
		r := s.do(t, "", topPageQuery, pageVars("OLDEST", 1, ""))
		var raw struct {
			Article struct {
				Comments struct {
					Edges []struct {
						Node map[string]json.RawMessage `json:"node"`
					} `json:"edges"`
				} `json:"comments"`
			} `json:"article"`
		}
		decodeData(t, r, &raw)
		if len(raw.Article.Comments.Edges) != 1 {
			t.Fatalf("want 1 edge: %s", r.Data)
		}
		for _, f := range []string{"id", "body", "bodyHTML", "createdAt", "editedAt", "status", "depth", "likeCount",
			"viewerHasLiked", "viewerCanEdit", "replyCount", "author", "parent", "article", "replies"} {
			if _, ok := raw.Article.Comments.Edges[0].Node[f]; !ok {
				t.Errorf("field %s missing from %s", f, r.Data)
			}
		}
	})

	for _, who := range []struct{ name, token string }{{"anonymous", ""}, {"reader", token}} {
		t.Run(who.name, func(t *testing.T) {
			list := s.all(t, who.token, "OLDEST")
			if len(list) != 45 {
				t.Fatalf("%d comments, want 45", len(list))
			}
			var prev time.Time
			for i, c := range list {
				n := i + 1
				want := sm.Comments[i]
				if c.Body != strings.TrimSpace(want.Body) {
					t.Errorf("comment %d body = %q, want %q", n, c.Body, want.Body)
				}
				if !strings.HasPrefix(c.BodyHTML, "<p>") {
					t.Errorf("comment %d bodyHTML = %q, want a paragraph", n, c.BodyHTML)
				}
				isAnon := slices.Contains(anonymous, n)
				switch {
				case isAnon && c.Author != nil:
					t.Errorf("comment %d author = %+v, want null", n, c.Author)
				case !isAnon && (c.Author == nil || c.Author.DisplayName != want.Author || c.Author.ID == ""):
					t.Errorf("comment %d author = %+v, want %q", n, c.Author, want.Author)
				}
				created := parseDateTime(t, c.CreatedAt)
				if i > 0 && created.Sub(prev) != time.Second {
					t.Errorf("comment %d createdAt %s is not one second after %s", n, c.CreatedAt, prev)
				}
				prev = created
				if c.EditedAt != nil {
					t.Errorf("comment %d editedAt = %q, want null", n, *c.EditedAt)
				}
				if c.Status != "PUBLISHED" || c.Depth != 0 || c.LikeCount != 0 || c.ReplyCount != 0 {
					t.Errorf("comment %d status/depth/likeCount/replyCount = %s %d %d %d", n, c.Status, c.Depth, c.LikeCount, c.ReplyCount)
				}
				if c.ViewerHasLiked || c.ViewerCanEdit {
					t.Errorf("comment %d viewerHasLiked/viewerCanEdit = %v %v, want false", n, c.ViewerHasLiked, c.ViewerCanEdit)
				}
				if c.Parent != nil {
					t.Errorf("comment %d parent = %+v, want null", n, c.Parent)
				}
				if c.Article == nil || c.Article.ID != articleID || c.Article.CommentCount != 45 {
					t.Errorf("comment %d article = %+v, want %s", n, c.Article, articleID)
				}
				if c.Replies == nil || c.Replies.TotalCount != 0 || len(c.Replies.Nodes) != 0 {
					t.Errorf("comment %d replies = %+v, want none", n, c.Replies)
				}
			}
			if got := list[7].BodyHTML; !strings.Contains(got, "<p>Creeeeepy</p>") {
				t.Errorf("comment 8 bodyHTML = %q", got)
			}
			if list[2].Author == nil || list[3].Author == nil || list[2].Author.DisplayName != "Lianne Abrahams" || list[2].Author.ID != list[3].Author.ID {
				t.Errorf("comments 3 and 4 should share the reader Lianne Abrahams: %+v %+v", list[2].Author, list[3].Author)
			}
			const joseph = "ИОСИФ Joseph Секейра Мендес Sequeira Mendes"
			if list[15].Author == nil || list[16].Author == nil || list[15].Author.DisplayName != joseph || list[15].Author.ID != list[16].Author.ID {
				t.Errorf("comments 16 and 17 should share the reader %q: %+v %+v", joseph, list[15].Author, list[16].Author)
			}
			if list[2].Author != nil && list[15].Author != nil && list[2].Author.ID == list[15].Author.ID {
				t.Errorf("different authors share the reader %s", list[2].Author.ID)
			}
		})
	}
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Pagination
// ---------------------------------------------------------------------------------------------------------------

// paginate follows endCursor through a whole list in pages of size, checking every page, and returns the IDs.
func (s *testServer) paginate(tb testing.TB, token, order string, size, wantTotal int) (ids []string, pages []int) {
	tb.Helper()
	after := ""
	for range 200 {
		conn, _ := s.page(tb, token, order, size, after)
		if conn.TotalCount != wantTotal {
			tb.Errorf("%s page %d: totalCount = %d, want %d", order, len(pages)+1, conn.TotalCount, wantTotal)
		}
		if conn.PageInfo.HasPreviousPage {
			tb.Errorf("%s page %d: hasPreviousPage is true", order, len(pages)+1)
		}
		page := conn.ids(tb)
		if len(page) == 0 {
			tb.Fatalf("%s page %d is empty (hasNextPage was true)", order, len(pages)+1)
		}
		if len(page) > size {
			tb.Fatalf("%s page %d has %d comments, more than %d", order, len(pages)+1, len(page), size)
		}
		first, last := conn.Edges[0].Cursor, conn.Edges[len(conn.Edges)-1].Cursor
		if conn.PageInfo.StartCursor == nil || *conn.PageInfo.StartCursor != first {
			tb.Errorf("%s page %d: startCursor = %v, want the first edge's %q", order, len(pages)+1, conn.PageInfo.StartCursor, first)
		}
		if conn.PageInfo.EndCursor == nil || *conn.PageInfo.EndCursor != last {
			tb.Fatalf("%s page %d: endCursor = %v, want the last edge's %q", order, len(pages)+1, conn.PageInfo.EndCursor, last)
		}
		ids = append(ids, page...)
		pages = append(pages, len(page))
		if !conn.PageInfo.HasNextPage {
			return ids, pages
		}
		after = last
	}
	tb.Fatalf("%s: still hasNextPage after 200 pages", order)
	return nil, nil
}

func TestPaginationThroughSample(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	sm := sample(t)
	ref := s.all(t, "", "OLDEST")
	if len(ref) != 45 {
		t.Fatalf("reference list has %d comments, want 45", len(ref))
	}
	// The reference is the sample in written order.
	for i, c := range ref {
		if c.Body != strings.TrimSpace(sm.Comments[i].Body) {
			t.Fatalf("OLDEST[%d] is not comment %d of the sample: %q", i, i+1, c.Body)
		}
	}
	oldest := idsOf(ref)
	if len(slices.Compact(slices.Sorted(slices.Values(oldest)))) != 45 {
		t.Fatalf("the reference list repeats IDs: %v", oldest)
	}

	for _, tc := range []struct {
		order string
		want  []string
	}{
		{"TOP", oldest}, // no likes: oldest first among equals
		{"NEWEST", reversed(oldest)},
		{"OLDEST", oldest},
	} {
		t.Run(tc.order, func(t *testing.T) {
			got, pages := s.paginate(t, "", tc.order, 7, 45)
			if !slices.Equal(pages, []int{7, 7, 7, 7, 7, 7, 3}) {
				t.Errorf("page sizes = %v, want six of 7 and one of 3", pages)
			}
			if len(got) != 45 {
				t.Fatalf("saw %d comments, want 45", len(got))
			}
			seen := map[string]int{}
			for _, id := range got {
				seen[id]++
			}
			for _, id := range oldest {
				if seen[id] != 1 {
					t.Errorf("comment %s seen %d times", id, seen[id])
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order = %v\nwant %v", got, tc.want)
			}
		})
	}

	t.Run("cursors are stable when comments are posted", func(t *testing.T) {
		s := newTestServer(t)
		_, token := s.newReader(t, "Poster")
		articleID := s.articleID(t)
		ref := idsOf(s.all(t, "", "OLDEST"))
		if len(ref) != 45 {
			t.Fatalf("%d comments", len(ref))
		}
		for _, order := range []string{"NEWEST", "OLDEST", "TOP"} {
			p1, _ := s.page(t, "", order, 7, "")
			if p1.PageInfo.EndCursor == nil {
				t.Fatalf("%s: no endCursor", order)
			}
			s.addComment(t, token, articleID, "", "posted meanwhile in "+order)
			p2, _ := s.page(t, "", order, 7, *p1.PageInfo.EndCursor)
			var want []string
			if order == "NEWEST" {
				want = reversed(ref)[7:14]
			} else {
				want = ref[7:14]
			}
			if got := p2.ids(t); !slices.Equal(got, want) {
				t.Errorf("%s page 2 after a new comment = %v, want %v", order, got, want)
			}
		}
	})
}

func TestPageSizes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ref := idsOf(s.all(t, "", "OLDEST"))
	if len(ref) != 45 {
		t.Fatalf("%d comments", len(ref))
	}

	for _, tc := range []struct {
		name     string
		first    int // < -1000: absent
		wantLen  int
		wantNext bool
	}{
		{"default is 20", -9999, 20, true},
		{"first 0", 0, 0, true},
		{"first 1", 1, 1, true},
		{"first 44", 44, 44, true},
		{"first 45", 45, 45, false},
		{"first 46", 46, 45, false},
		{"first 500", 500, 45, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range []string{"TOP", "NEWEST", "OLDEST"} {
				conn, _ := s.page(t, "", order, tc.first, "")
				got := conn.ids(t)
				if len(got) != tc.wantLen || conn.PageInfo.HasNextPage != tc.wantNext || conn.TotalCount != 45 {
					t.Errorf("%s: %d comments, hasNextPage %v, totalCount %d; want %d, %v, 45",
						order, len(got), conn.PageInfo.HasNextPage, conn.TotalCount, tc.wantLen, tc.wantNext)
				}
				if tc.wantLen == 0 && (conn.PageInfo.StartCursor != nil || conn.PageInfo.EndCursor != nil || conn.Edges == nil) {
					t.Errorf("%s: empty page has edges %v, cursors %v %v; want [], null, null", order, conn.Edges, conn.PageInfo.StartCursor, conn.PageInfo.EndCursor)
				}
			}
		})
	}

	t.Run("default without variables", func(t *testing.T) {
		var data struct {
			Article struct {
				Comments struct {
					Nodes    []struct{ ID string }
					PageInfo struct{ HasNextPage bool }
				}
			}
		}
		s.mustDo(t, "", `{ article(site: "demo", key: "social-credit") { comments { nodes { id } pageInfo { hasNextPage } } } }`, nil, &data)
		got := data.Article.Comments.Nodes
		if len(got) != 20 || !data.Article.Comments.PageInfo.HasNextPage {
			t.Fatalf("%d comments, hasNextPage %v; want 20, true", len(got), data.Article.Comments.PageInfo.HasNextPage)
		}
		for i, n := range got { // the default order is TOP: oldest first without likes
			if n.ID != ref[i] {
				t.Errorf("comments[%d] = %s, want %s", i, n.ID, ref[i])
			}
		}
	})

	t.Run("first -1", func(t *testing.T) {
		for _, order := range []string{"TOP", "NEWEST", "OLDEST"} {
			expectError(t, s.do(t, "", topPageQuery, pageVars(order, -1, "")), "BAD_USER_INPUT")
		}
		expectError(t, s.do(t, "", `query($id: ID!) { node(id: $id) { ... on Comment { replies(first: -1) { totalCount } } } }`,
			map[string]any{"id": ref[0]}), "BAD_USER_INPUT")
	})

	t.Run("first 500 is capped at 100", func(t *testing.T) {
		s := newTestServer(t)
		_, token := s.newReader(t, "Prolific")
		articleID := s.articleID(t)
		for i := range 56 { // 45 + 56 = 101 top-level comments
			s.addComment(t, token, articleID, "", fmt.Sprintf("comment number %d", i))
		}
		for _, order := range []string{"TOP", "NEWEST", "OLDEST"} {
			conn, _ := s.page(t, "", order, 500, "")
			if got := conn.ids(t); len(got) != 100 || !conn.PageInfo.HasNextPage || conn.TotalCount != 101 {
				t.Errorf("%s first 500: %d comments, hasNextPage %v, totalCount %d; want 100, true, 101", order, len(got), conn.PageInfo.HasNextPage, conn.TotalCount)
			}
			if conn.PageInfo.EndCursor == nil {
				t.Fatalf("%s: no endCursor", order)
			}
			rest, _ := s.page(t, "", order, 500, *conn.PageInfo.EndCursor)
			if got := rest.ids(t); len(got) != 1 || rest.PageInfo.HasNextPage {
				t.Errorf("%s after 100: %d comments, hasNextPage %v; want 1, false", order, len(got), rest.PageInfo.HasNextPage)
			}
		}
	})
}

func TestCursors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	cursor := map[string]string{}
	for _, order := range []string{"TOP", "NEWEST", "OLDEST"} {
		conn, _ := s.page(t, "", order, 3, "")
		if conn.PageInfo.EndCursor == nil || *conn.PageInfo.EndCursor == "" {
			t.Fatalf("%s: no endCursor", order)
		}
		cursor[order] = *conn.PageInfo.EndCursor
	}
	if cursor["TOP"] == cursor["OLDEST"] || cursor["NEWEST"] == cursor["OLDEST"] {
		t.Errorf("cursors do not name their order: %v", cursor)
	}

	for from, c := range cursor {
		for _, to := range []string{"TOP", "NEWEST", "OLDEST"} {
			if to == from {
				continue
			}
			t.Run(from+" cursor in "+to, func(t *testing.T) {
				expectError(t, s.do(t, "", topPageQuery, pageVars(to, 7, c)), "BAD_USER_INPUT")
			})
		}
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ name, cursor string }{
		{"garbage", "garbage!!"},
		{"empty", ""},
		{"base64 of nonsense", b64("hello world")},
		{"wrong version", b64("c0:oldest:0:0:1")},
		{"negative likes", b64("c1:oldest:-1:0:1")},
		{"zero id", b64("c1:oldest:0:0:0")},
		{"too long", strings.Repeat("A", 200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := pageVars("OLDEST", 7, "")
			v["after"] = tc.cursor
			expectError(t, s.do(t, "", topPageQuery, v), "BAD_USER_INPUT")
		})
	}
	t.Run("garbage replies cursor", func(t *testing.T) {
		ref := s.all(t, "", "OLDEST")
		if len(ref) == 0 {
			t.Fatal("no comments")
		}
		expectError(t, s.do(t, "", `query($id: ID!) { node(id: $id) { ... on Comment { replies(after: "garbage!!") { totalCount } } } }`,
			map[string]any{"id": ref[0].ID}), "BAD_USER_INPUT")
	})
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Mutations
// ---------------------------------------------------------------------------------------------------------------

func TestCreateReader(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	q := `mutation($site: String!, $name: String!) { createReader(input: {site: $site, displayName: $name}) { reader { id displayName } token } }`
	type payload struct {
		CreateReader struct {
			Reader readerJSON `json:"reader"`
			Token  string     `json:"token"`
		} `json:"createReader"`
	}

	t.Run("valid", func(t *testing.T) {
		tokens := map[string]bool{}
		ids := map[string]bool{}
		for _, name := range []string{"Ada", strings.Repeat("a", 50), strings.Repeat("é", 50), "Lianne Abrahams"} {
			var data payload
			s.mustDo(t, "", q, map[string]any{"site": "demo", "name": name}, &data)
			p := data.CreateReader
			if !strings.HasPrefix(p.Token, "tl_") || len(p.Token) < 20 {
				t.Errorf("token %q does not look like a Threadline token", p.Token)
			}
			if p.Reader.DisplayName != name || p.Reader.ID == "" {
				t.Errorf("reader = %+v, want displayName %q", p.Reader, name)
			}
			if tokens[p.Token] || ids[p.Reader.ID] {
				t.Errorf("token or ID repeated: %+v", p)
			}
			tokens[p.Token], ids[p.Reader.ID] = true, true
			var v struct{ Viewer *readerJSON }
			s.mustDo(t, p.Token, `{ viewer { id displayName } }`, nil, &v)
			if v.Viewer == nil || *v.Viewer != p.Reader {
				t.Errorf("viewer with the new token = %+v, want %+v", v.Viewer, p.Reader)
			}
		}
	})
	t.Run("token is not readable again", func(t *testing.T) {
		expectError(t, s.do(t, "", `{ viewer { token } }`, nil), "BAD_USER_INPUT")
	})

	for _, tc := range []struct{ name, site, displayName, want string }{
		{"empty name", "demo", "", "BAD_USER_INPUT"},
		{"whitespace name", "demo", " \t  ", "BAD_USER_INPUT"},
		{"51 characters", "demo", strings.Repeat("a", 51), "BAD_USER_INPUT"},
		{"51 non-ASCII characters", "demo", strings.Repeat("é", 51), "BAD_USER_INPUT"},
		{"two lines", "demo", "Ada\nLovelace", "BAD_USER_INPUT"},
		{"unknown site", "no-such-site", "Ada", "NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, "", q, map[string]any{"site": tc.site, "name": tc.displayName})
			expectError(t, r, tc.want)
			if strings.Contains(string(r.Data), "tl_") {
				t.Errorf("a refused createReader leaked a token: %s", r.Data)
			}
		})
	}
}

func TestAddCommentThread(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	articleID := s.articleID(t)
	aliceID, alice := s.newReader(t, "Alice")
	bobID, bob := s.newReader(t, "Bob")

	count, total := s.counts(t)
	if count != 45 || total != 45 {
		t.Fatalf("counts before = %d, %d; want 45, 45", count, total)
	}

	// Four levels: top by Alice, reply by Bob, reply by Alice, reply by Bob.
	tokens := []string{alice, bob, alice, bob}
	authors := []string{aliceID, bobID, aliceID, bobID}
	var chain []commentJSON
	for depth := range 4 {
		parent := ""
		if depth > 0 {
			parent = chain[depth-1].ID
		}
		body := fmt.Sprintf("level %d says **hi**", depth)
		c := s.add(t, tokens[depth], articleID, parent, body)
		chain = append(chain, c)

		if c.Depth != depth || c.Status != "PUBLISHED" || c.Body != body || !strings.Contains(c.BodyHTML, "<strong>hi</strong>") {
			t.Errorf("level %d: depth %d status %s body %q bodyHTML %q", depth, c.Depth, c.Status, c.Body, c.BodyHTML)
		}
		if c.Author == nil || c.Author.ID != authors[depth] {
			t.Errorf("level %d: author = %+v, want %s", depth, c.Author, authors[depth])
		}
		if (depth == 0) != (c.Parent == nil) || (depth > 0 && c.Parent.ID != parent) {
			t.Errorf("level %d: parent = %+v, want %q", depth, c.Parent, parent)
		}
		if !c.ViewerCanEdit || c.ViewerHasLiked || c.LikeCount != 0 || c.ReplyCount != 0 || c.EditedAt != nil {
			t.Errorf("level %d: new comment = %+v", depth, c)
		}
		parseDateTime(t, c.CreatedAt)
		if c.Article == nil || c.Article.ID != articleID || c.Article.CommentCount != 46+depth {
			t.Errorf("level %d: payload article = %+v, want commentCount %d", depth, c.Article, 46+depth)
		}
		count, total := s.counts(t)
		if count != 46+depth || total != 46 {
			t.Errorf("after level %d: commentCount %d, totalCount %d; want %d, 46", depth, count, total, 46+depth)
		}
	}
	if len(chain) != 4 {
		t.Fatalf("chain has %d comments", len(chain))
	}

	t.Run("each parent shows its reply", func(t *testing.T) {
		for depth, c := range chain {
			got := s.comment(t, "", c.ID)
			if got == nil {
				t.Fatalf("level %d: node is null", depth)
			}
			if got.Depth != depth {
				t.Errorf("level %d: depth = %d", depth, got.Depth)
			}
			wantReplies := 1
			if depth == 3 {
				wantReplies = 0
			}
			if got.ReplyCount != wantReplies || got.Replies.TotalCount != wantReplies || len(got.Replies.Edges) != wantReplies {
				t.Errorf("level %d: replyCount %d, replies.totalCount %d, %d edges; want %d", depth, got.ReplyCount, got.Replies.TotalCount, len(got.Replies.Edges), wantReplies)
			}
			if wantReplies == 1 && len(got.Replies.Edges) == 1 {
				r := got.Replies.Edges[0].Node
				if r.ID != chain[depth+1].ID || r.Parent == nil || r.Parent.ID != c.ID || r.Depth != depth+1 {
					t.Errorf("level %d: reply = %+v, want %s", depth, r, chain[depth+1].ID)
				}
				if got.Replies.PageInfo.HasNextPage || got.Replies.PageInfo.EndCursor == nil || *got.Replies.PageInfo.EndCursor != got.Replies.Edges[0].Cursor {
					t.Errorf("level %d: replies pageInfo = %+v", depth, got.Replies.PageInfo)
				}
			}
		}
	})

	t.Run("nested in one query", func(t *testing.T) {
		var data struct {
			Article struct {
				Comments struct {
					Nodes []struct {
						ID      string `json:"id"`
						Depth   int    `json:"depth"`
						Replies struct {
							Nodes []struct {
								ID      string `json:"id"`
								Depth   int    `json:"depth"`
								Replies struct {
									Nodes []struct {
										ID      string `json:"id"`
										Depth   int    `json:"depth"`
										Replies struct {
											Nodes []struct {
												ID     string `json:"id"`
												Depth  int    `json:"depth"`
												Parent struct {
													Parent struct {
														Parent struct {
															ID string `json:"id"`
														} `json:"parent"`
													} `json:"parent"`
												} `json:"parent"`
											} `json:"nodes"`
										} `json:"replies"`
									} `json:"nodes"`
								} `json:"replies"`
							} `json:"nodes"`
						} `json:"replies"`
					} `json:"nodes"`
				} `json:"comments"`
			} `json:"article"`
		}
		s.mustDo(t, "", `{ article(site: "demo", key: "social-credit") { comments(first: 1, orderBy: NEWEST) { nodes {
			id depth replies(first: 5) { nodes { id depth replies(first: 5) { nodes { id depth replies(first: 5) { nodes { id depth parent { parent { parent { id } } } } } } } } } } } } }`, nil, &data)
		top := data.Article.Comments.Nodes
		if len(top) != 1 || top[0].ID != chain[0].ID || top[0].Depth != 0 {
			t.Fatalf("newest top-level comment = %+v, want %s", top, chain[0].ID)
		}
		l1 := top[0].Replies.Nodes
		if len(l1) != 1 || l1[0].ID != chain[1].ID || l1[0].Depth != 1 {
			t.Fatalf("level 1 = %+v", l1)
		}
		l2 := l1[0].Replies.Nodes
		if len(l2) != 1 || l2[0].ID != chain[2].ID || l2[0].Depth != 2 {
			t.Fatalf("level 2 = %+v", l2)
		}
		l3 := l2[0].Replies.Nodes
		if len(l3) != 1 || l3[0].ID != chain[3].ID || l3[0].Depth != 3 || l3[0].Parent.Parent.Parent.ID != chain[0].ID {
			t.Fatalf("level 3 = %+v", l3)
		}
	})

	t.Run("replies are not top-level comments", func(t *testing.T) {
		for _, order := range []string{"TOP", "NEWEST", "OLDEST"} {
			ids := idsOf(s.all(t, "", order))
			if len(ids) != 46 {
				t.Errorf("%s: %d top-level comments, want 46", order, len(ids))
			}
			if !slices.Contains(ids, chain[0].ID) {
				t.Errorf("%s: the new top-level comment is missing", order)
			}
			for _, r := range chain[1:] {
				if slices.Contains(ids, r.ID) {
					t.Errorf("%s: reply %s is listed as a top-level comment", order, r.ID)
				}
			}
		}
		newest, _ := s.page(t, "", "NEWEST", 1, "")
		if ids := newest.ids(t); len(ids) != 1 || ids[0] != chain[0].ID {
			t.Errorf("NEWEST first = %v, want %s", ids, chain[0].ID)
		}
		oldest := idsOf(s.all(t, "", "OLDEST"))
		if len(oldest) == 0 || oldest[len(oldest)-1] != chain[0].ID {
			t.Errorf("OLDEST last is not the new comment")
		}
	})

	t.Run("reply to a sample comment", func(t *testing.T) {
		ref := s.all(t, "", "OLDEST")
		if len(ref) < 1 {
			t.Fatal("no comments")
		}
		r := s.add(t, bob, articleID, ref[0].ID, "replying to comment 1")
		if r.Depth != 1 || r.Parent == nil || r.Parent.ID != ref[0].ID {
			t.Errorf("reply = %+v", r)
		}
		if got := s.comment(t, "", ref[0].ID); got == nil || got.ReplyCount != 1 || len(got.Replies.Edges) != 1 || got.Replies.Edges[0].Node.ID != r.ID {
			t.Errorf("comment 1 after a reply = %+v", got)
		}
		if count, total := s.counts(t); count != 50 || total != 46 {
			t.Errorf("counts = %d, %d; want 50, 46", count, total)
		}
	})

	t.Run("replies oldest first", func(t *testing.T) {
		var want []string
		for i := range 3 {
			want = append(want, s.addComment(t, alice, articleID, chain[3].ID, fmt.Sprintf("sibling %d", i)))
		}
		got := s.comment(t, "", chain[3].ID)
		if got == nil || got.ReplyCount != 3 {
			t.Fatalf("leaf after three replies = %+v", got)
		}
		if ids := got.Replies.ids(t); !slices.Equal(ids, want) {
			t.Errorf("replies = %v, want %v", ids, want)
		}

		// The same replies in pages of 2, following endCursor.
		var paged []string
		after := ""
		for page := 1; ; page++ {
			if page > 5 {
				t.Fatal("replies never end")
			}
			vars := map[string]any{"id": chain[3].ID}
			q := `query($id: ID!) { node(id: $id) { ... on Comment { replies(first: 2) {
				totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } nodes { id } } } } }`
			if after != "" {
				vars["after"] = after
				q = strings.Replace(strings.Replace(q, "query($id: ID!)", "query($id: ID!, $after: String)", 1), "first: 2", "first: 2, after: $after", 1)
			}
			var data struct {
				Node struct {
					Replies connJSON `json:"replies"`
				} `json:"node"`
			}
			s.mustDo(t, "", q, vars, &data)
			conn := data.Node.Replies
			ids := conn.ids(t)
			if conn.TotalCount != 3 || len(ids) == 0 || conn.PageInfo.EndCursor == nil {
				t.Fatalf("replies page %d: totalCount %d, %d replies, endCursor %v", page, conn.TotalCount, len(ids), conn.PageInfo.EndCursor)
			}
			paged = append(paged, ids...)
			if !conn.PageInfo.HasNextPage {
				if page != 2 {
					t.Errorf("%d pages of replies, want 2", page)
				}
				break
			}
			after = *conn.PageInfo.EndCursor
		}
		if !slices.Equal(paged, want) {
			t.Errorf("replies in pages of 2 = %v, want %v", paged, want)
		}
	})
}

func TestAddCommentInput(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	articleID := s.articleID(t)
	_, token := s.newReader(t, "Writer")
	ref := s.all(t, "", "OLDEST")
	if len(ref) != 45 {
		t.Fatalf("%d comments", len(ref))
	}

	accepted := []struct {
		name, body, wantBody string
	}{
		{"markdown", "**hi**", "**hi**"},
		{"exactly 10,000 characters", strings.Repeat("x", 10_000), strings.Repeat("x", 10_000)},
		{"10,000 non-ASCII characters", strings.Repeat("é", 10_000), strings.Repeat("é", 10_000)},
		{"10,000 after trimming", "  \n" + strings.Repeat("y", 10_000) + "\n\t ", strings.Repeat("y", 10_000)},
		{"one character", "k", "k"},
	}
	for _, tc := range accepted {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			c := s.add(t, token, articleID, "", tc.body)
			if c.Body != tc.wantBody {
				t.Errorf("body = %.40q (%d bytes), want %.40q (%d bytes)", c.Body, len(c.Body), tc.wantBody, len(tc.wantBody))
			}
			if c.BodyHTML == "" {
				t.Error("empty bodyHTML")
			}
		})
	}
	t.Run("markdown rendered", func(t *testing.T) {
		c := s.add(t, token, articleID, "", "**hi** and _there_")
		if !strings.Contains(c.BodyHTML, "<strong>hi</strong>") || !strings.Contains(c.BodyHTML, "<em>there</em>") {
			t.Errorf("bodyHTML = %q", c.BodyHTML)
		}
	})
	t.Run("html sanitized", func(t *testing.T) {
		c := s.add(t, token, articleID, "", "<script>alert(1)</script> [x](javascript:alert(1)) ![pic](https://tracker.example/p.png) [ok](https://example.com/)")
		low := strings.ToLower(c.BodyHTML)
		for _, bad := range []string{"<script", "<img", `href="javascript`, "onerror"} {
			if strings.Contains(low, bad) {
				t.Errorf("bodyHTML contains %q: %s", bad, c.BodyHTML)
			}
		}
		if !strings.Contains(c.BodyHTML, `href="https://example.com/"`) || !strings.Contains(c.BodyHTML, `rel="nofollow ugc noopener"`) {
			t.Errorf("bodyHTML lacks the safe link with rel=\"nofollow ugc noopener\": %s", c.BodyHTML)
		}
		if c.Body != "<script>alert(1)</script> [x](javascript:alert(1)) ![pic](https://tracker.example/p.png) [ok](https://example.com/)" {
			t.Errorf("body is not as written: %q", c.Body)
		}
	})

	before, beforeTotal := s.counts(t)
	refused := []struct {
		name, token, article, parent, body, want string
	}{
		{"empty body", token, articleID, "", "", "BAD_USER_INPUT"},
		{"whitespace body", token, articleID, "", " \n\t \r\n ", "BAD_USER_INPUT"},
		{"10,001 characters", token, articleID, "", strings.Repeat("x", 10_001), "BAD_USER_INPUT"},
		{"10,001 non-ASCII characters", token, articleID, "", strings.Repeat("é", 10_001), "BAD_USER_INPUT"},
		{"no token", "", articleID, "", "hello", "UNAUTHENTICATED"},
		{"unknown token", "tl_" + strings.Repeat("Z", 43), articleID, "", "hello", "UNAUTHENTICATED"},
		{"unknown article", token, unknownID(t, articleID), "", "hello", "NOT_FOUND"},
		{"comment ID as article", token, ref[0].ID, "", "hello", "BAD_USER_INPUT"},
		{"malformed article ID", token, "???", "", "hello", "BAD_USER_INPUT"},
		{"unknown parent", token, articleID, unknownID(t, ref[0].ID), "hello", "NOT_FOUND"},
		{"article ID as parent", token, articleID, articleID, "hello", "BAD_USER_INPUT"},
		{"malformed parent ID", token, articleID, "???", "hello", "BAD_USER_INPUT"},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			expectError(t, s.do(t, tc.token, addCommentMutation, addVars(tc.article, tc.parent, tc.body)), tc.want)
		})
	}
	t.Run("Basic authorization", func(t *testing.T) {
		r := s.post(t, map[string]string{"Authorization": "Basic x"}, addCommentMutation, addVars(articleID, "", "hello"), nil).gql(t)
		expectError(t, r, "UNAUTHENTICATED")
	})
	if after, afterTotal := s.counts(t); after != before || afterTotal != beforeTotal {
		t.Errorf("refused comments changed the counts: %d, %d -> %d, %d", before, beforeTotal, after, afterTotal)
	}
}

func TestEditComment(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	articleID := s.articleID(t)
	_, alice := s.newReader(t, "Alice")
	_, bob := s.newReader(t, "Bob")
	own := s.add(t, alice, articleID, "", "first version")
	ref := s.all(t, "", "OLDEST")
	if len(ref) != 46 {
		t.Fatalf("%d comments", len(ref))
	}
	sample3 := ref[2] // has an (imported) author
	sample1 := ref[0] // anonymous

	edit := func(token, id, body string) *gqlResponse {
		return s.do(t, token, editMutation, map[string]any{"id": id, "b": body})
	}

	t.Run("own", func(t *testing.T) {
		var data struct {
			EditComment struct {
				Comment commentJSON `json:"comment"`
			} `json:"editComment"`
		}
		decodeData(t, edit(alice, own.ID, "  second **version**\n"), &data)
		c := data.EditComment.Comment
		if c.ID != own.ID || c.Body != "second **version**" || !strings.Contains(c.BodyHTML, "<strong>version</strong>") {
			t.Errorf("edited = %+v", c)
		}
		if c.EditedAt == nil {
			t.Fatal("editedAt is null after an edit")
		}
		created, edited := parseDateTime(t, c.CreatedAt), parseDateTime(t, *c.EditedAt)
		if c.CreatedAt != own.CreatedAt || !edited.After(created) {
			t.Errorf("createdAt %s (was %s), editedAt %s", c.CreatedAt, own.CreatedAt, *c.EditedAt)
		}
		if !c.ViewerCanEdit || c.Status != "PUBLISHED" || c.Author == nil || c.Author.DisplayName != "Alice" {
			t.Errorf("edited = %+v", c)
		}
		again := s.comment(t, alice, own.ID)
		if again == nil || again.Body != "second **version**" || again.EditedAt == nil || *again.EditedAt != *c.EditedAt || !again.ViewerCanEdit {
			t.Errorf("read back = %+v", again)
		}
		if anon := s.comment(t, "", own.ID); anon == nil || anon.ViewerCanEdit {
			t.Errorf("anonymous viewerCanEdit = %+v", anon)
		}
		if other := s.comment(t, bob, own.ID); other == nil || other.ViewerCanEdit {
			t.Errorf("another reader's viewerCanEdit = %+v", other)
		}
		if count, _ := s.counts(t); count != 46 {
			t.Errorf("commentCount after an edit = %d, want 46", count)
		}
	})

	for _, tc := range []struct{ name, token, id, body, want string }{
		{"another reader's", bob, own.ID, "hijacked", "FORBIDDEN"},
		{"an imported comment with an author", alice, sample3.ID, "hijacked", "FORBIDDEN"},
		{"an anonymous imported comment", alice, sample1.ID, "hijacked", "FORBIDDEN"},
		{"empty body", alice, own.ID, "", "BAD_USER_INPUT"},
		{"whitespace body", alice, own.ID, "   ", "BAD_USER_INPUT"},
		{"10,001 characters", alice, own.ID, strings.Repeat("x", 10_001), "BAD_USER_INPUT"},
		{"missing comment", alice, unknownID(t, own.ID), "hello", "NOT_FOUND"},
		{"article ID", alice, articleID, "hello", "BAD_USER_INPUT"},
		{"no token", "", own.ID, "hello", "UNAUTHENTICATED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, edit(tc.token, tc.id, tc.body), tc.want)
		})
	}
	t.Run("refused edits changed nothing", func(t *testing.T) {
		if c := s.comment(t, "", own.ID); c == nil || c.Body != "second **version**" {
			t.Errorf("own comment = %+v", c)
		}
		for _, c := range []commentJSON{sample1, sample3} {
			if got := s.comment(t, "", c.ID); got == nil || got.Body != c.Body || got.EditedAt != nil {
				t.Errorf("sample comment = %+v, want body %q and never edited", got, c.Body)
			}
		}
	})
}

func TestDeleteComment(t *testing.T) {
	t.Parallel()

	t.Run("without replies", func(t *testing.T) {
		s := newTestServer(t)
		articleID := s.articleID(t)
		_, alice := s.newReader(t, "Alice")
		_, bob := s.newReader(t, "Bob")
		c := s.add(t, alice, articleID, "", "short-lived")
		s.mutateComment(t, bob, "likeComment", c.ID, "") // a liked comment can still be deleted
		if count, total := s.counts(t); count != 46 || total != 46 {
			t.Fatalf("counts = %d, %d", count, total)
		}
		expectError(t, s.do(t, bob, deleteMutation, map[string]any{"id": c.ID}), "FORBIDDEN")
		expectError(t, s.do(t, "", deleteMutation, map[string]any{"id": c.ID}), "UNAUTHENTICATED")

		p := s.remove(t, alice, c.ID)
		if p.DeleteComment.Comment != nil {
			t.Errorf("payload comment = %+v, want null", p.DeleteComment.Comment)
		}
		if count, total := s.counts(t); count != 45 || total != 45 {
			t.Errorf("counts after delete = %d, %d; want 45, 45", count, total)
		}
		if got := s.comment(t, "", c.ID); got != nil {
			t.Errorf("node of a deleted comment = %+v, want null", got)
		}
		for _, order := range []string{"TOP", "NEWEST", "OLDEST"} {
			if ids := idsOf(s.all(t, "", order)); len(ids) != 45 || slices.Contains(ids, c.ID) {
				t.Errorf("%s: %d comments, deleted one listed: %v", order, len(ids), slices.Contains(ids, c.ID))
			}
		}
		r := s.do(t, alice, deleteMutation, map[string]any{"id": c.ID})
		expectError(t, r, "NOT_FOUND") // the row is gone: there is nothing to conflict with
	})

	t.Run("with a reply", func(t *testing.T) {
		s := newTestServer(t)
		articleID := s.articleID(t)
		_, alice := s.newReader(t, "Alice")
		_, bob := s.newReader(t, "Bob")
		top := s.add(t, alice, articleID, "", "parent to be deleted")
		reply := s.add(t, bob, articleID, top.ID, "a reply that keeps it")
		s.mutateComment(t, bob, "likeComment", top.ID, "")
		if count, total := s.counts(t); count != 47 || total != 46 {
			t.Fatalf("counts = %d, %d", count, total)
		}

		p := s.remove(t, alice, top.ID)
		ph := p.DeleteComment.Comment
		if ph == nil {
			t.Fatal("payload comment is null, want the placeholder")
		}
		if ph.ID != top.ID || ph.Status != "DELETED" || ph.Body != "" || ph.BodyHTML != "" || ph.Author != nil {
			t.Errorf("placeholder = %+v", ph)
		}
		if ph.ViewerCanEdit || ph.ReplyCount != 1 || ph.Depth != 0 || ph.LikeCount != 0 {
			t.Errorf("placeholder = %+v, want viewerCanEdit false, replyCount 1, depth 0, likeCount 0", ph)
		}
		if count, total := s.counts(t); count != 46 || total != 46 {
			t.Errorf("counts with placeholder = %d, %d; want 46, 46", count, total)
		}
		newest, _ := s.page(t, bob, "NEWEST", 1, "")
		if len(newest.Edges) != 1 || newest.Edges[0].Node.ID != top.ID {
			t.Fatalf("the placeholder is not first in NEWEST: %v", newest.ids(t))
		}
		listed := newest.Edges[0].Node
		if listed.Status != "DELETED" || listed.Body != "" || listed.Author != nil || listed.ViewerHasLiked || listed.LikeCount != 0 {
			t.Errorf("listed placeholder = %+v", listed)
		}
		if listed.Replies == nil || len(listed.Replies.Nodes) != 1 || listed.Replies.Nodes[0].ID != reply.ID {
			t.Errorf("the reply is not under the placeholder: %+v", listed.Replies)
		}

		// What cannot be done to a placeholder.
		expectError(t, s.do(t, alice, deleteMutation, map[string]any{"id": top.ID}), "CONFLICT")
		expectError(t, s.do(t, alice, editMutation, map[string]any{"id": top.ID, "b": "back"}), "CONFLICT")
		expectError(t, s.commentMutation(t, bob, "likeComment", top.ID, ""), "CONFLICT")
		expectError(t, s.do(t, bob, addCommentMutation, addVars(articleID, top.ID, "another reply")), "CONFLICT")

		// Deleting the last reply takes the empty placeholder with it.
		p = s.remove(t, bob, reply.ID)
		if p.DeleteComment.Comment != nil {
			t.Errorf("payload comment = %+v, want null", p.DeleteComment.Comment)
		}
		for _, id := range []string{top.ID, reply.ID} {
			if got := s.comment(t, "", id); got != nil {
				t.Errorf("node(%s) = %+v after the thread went, want null", id, got)
			}
		}
		if count, total := s.counts(t); count != 45 || total != 45 {
			t.Errorf("counts after both went = %d, %d; want 45, 45", count, total)
		}
		if ids := idsOf(s.all(t, "", "NEWEST")); len(ids) != 45 || slices.Contains(ids, top.ID) {
			t.Errorf("the empty placeholder is still listed")
		}
	})

	t.Run("placeholders up a chain", func(t *testing.T) {
		s := newTestServer(t)
		articleID := s.articleID(t)
		_, alice := s.newReader(t, "Alice")
		c0 := s.add(t, alice, articleID, "", "level 0")
		c1 := s.add(t, alice, articleID, c0.ID, "level 1")
		c2 := s.add(t, alice, articleID, c1.ID, "level 2")
		c3 := s.add(t, alice, articleID, c2.ID, "level 3")
		if count, _ := s.counts(t); count != 49 {
			t.Fatalf("commentCount = %d, want 49", count)
		}
		for i, c := range []commentJSON{c1, c2} {
			p := s.remove(t, alice, c.ID)
			if p.DeleteComment.Comment == nil || p.DeleteComment.Comment.Status != "DELETED" {
				t.Errorf("deleting level %d: payload comment = %+v, want a placeholder", i+1, p.DeleteComment.Comment)
			}
		}
		if count, total := s.counts(t); count != 47 || total != 46 {
			t.Errorf("counts = %d, %d; want 47, 46", count, total)
		}
		if got := s.comment(t, "", c2.ID); got == nil || got.Status != "DELETED" || got.Replies.TotalCount != 1 || len(got.Replies.Edges) != 1 || got.Replies.Edges[0].Node.ID != c3.ID {
			t.Errorf("level 2 placeholder = %+v", got)
		}
		s.remove(t, alice, c3.ID)
		for i, c := range []commentJSON{c1, c2, c3} {
			if got := s.comment(t, "", c.ID); got != nil {
				t.Errorf("level %d still there: %+v", i+1, got)
			}
		}
		got := s.comment(t, "", c0.ID)
		if got == nil || got.Status != "PUBLISHED" || got.ReplyCount != 0 || got.Replies.TotalCount != 0 || len(got.Replies.Edges) != 0 {
			t.Errorf("level 0 after its thread went = %+v", got)
		}
		if count, total := s.counts(t); count != 46 || total != 46 {
			t.Errorf("counts = %d, %d; want 46, 46", count, total)
		}
	})
}

func TestLikes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	_, alice := s.newReader(t, "Alice")
	_, bob := s.newReader(t, "Bob")
	_, carol := s.newReader(t, "Carol")
	ref := s.all(t, "", "OLDEST")
	if len(ref) != 45 {
		t.Fatalf("%d comments", len(ref))
	}
	oldest := idsOf(ref)
	c30, c10 := ref[29].ID, ref[9].ID

	like := func(token, id string) commentJSON { return s.mutateComment(t, token, "likeComment", id, "") }
	unlike := func(token, id string) commentJSON { return s.mutateComment(t, token, "unlikeComment", id, "") }
	check := func(step string, c commentJSON, count int, liked bool) {
		t.Helper()
		if c.LikeCount != count || c.ViewerHasLiked != liked {
			t.Errorf("%s: likeCount %d, viewerHasLiked %v; want %d, %v", step, c.LikeCount, c.ViewerHasLiked, count, liked)
		}
	}
	seenBy := func(step, token string, count int, liked bool) {
		t.Helper()
		c := s.comment(t, token, c30)
		if c == nil {
			t.Fatalf("%s: comment 30 is null", step)
		}
		check(step, *c, count, liked)
		// The same through a list, where the loaders are primed in bulk.
		for _, e := range s.all(t, token, "OLDEST") {
			if e.ID == c30 {
				check(step+" (list)", e, count, liked)
			}
		}
	}

	check("alice likes", like(alice, c30), 1, true)
	check("alice likes again", like(alice, c30), 1, true)
	seenBy("alice reads", alice, 1, true)
	seenBy("anonymous reads", "", 1, false)
	seenBy("carol reads", carol, 1, false)
	check("bob likes", like(bob, c30), 2, true)
	seenBy("alice reads after bob", alice, 2, true)
	seenBy("carol reads after bob", carol, 2, false)
	check("alice unlikes", unlike(alice, c30), 1, false)
	check("alice unlikes again", unlike(alice, c30), 1, false)
	check("carol unlikes what she never liked", unlike(carol, c30), 1, false)
	seenBy("bob reads", bob, 1, true)
	seenBy("alice reads after unlike", alice, 1, false)

	t.Run("likes of replies", func(t *testing.T) {
		reply := s.add(t, alice, s.articleID(t), c30, "a reply to like")
		check("bob likes the reply", like(bob, reply.ID), 1, true)
		for _, tc := range []struct {
			who, token string
			liked      bool
		}{{"bob", bob, true}, {"alice", alice, false}, {"anonymous", "", false}} {
			c := s.comment(t, tc.token, c30)
			if c == nil || len(c.Replies.Edges) != 1 {
				t.Fatalf("%s: comment 30's replies = %+v", tc.who, c)
			}
			check(tc.who+" reads the reply", c.Replies.Edges[0].Node, 1, tc.liked)
		}
		s.remove(t, alice, reply.ID)
	})

	t.Run("TOP puts the most liked first", func(t *testing.T) {
		want := append([]string{c30}, slices.DeleteFunc(slices.Clone(oldest), func(id string) bool { return id == c30 })...)
		if got := idsOf(s.all(t, "", "TOP")); !slices.Equal(got, want) {
			t.Errorf("TOP = %v\nwant %v", got, want)
		}
		check("alice likes 10", like(alice, c10), 1, true)
		check("carol likes 10", like(carol, c10), 2, true)
		want = []string{c10, c30}
		for _, id := range oldest {
			if id != c10 && id != c30 {
				want = append(want, id)
			}
		}
		if got := idsOf(s.all(t, "", "TOP")); !slices.Equal(got, want) {
			t.Errorf("TOP = %v\nwant %v", got, want)
		}
		got, pages := s.paginate(t, "", "TOP", 7, 45)
		if !slices.Equal(got, want) || len(pages) != 7 {
			t.Errorf("TOP in pages of 7 (%v) = %v\nwant %v", pages, got, want)
		}
		if got := idsOf(s.all(t, "", "OLDEST")); !slices.Equal(got, oldest) {
			t.Errorf("likes changed OLDEST")
		}
	})

	for _, tc := range []struct{ name, field, token, id, want string }{
		{"like missing", "likeComment", alice, unknownID(t, c30), "NOT_FOUND"},
		{"unlike missing", "unlikeComment", alice, unknownID(t, c30), "NOT_FOUND"},
		{"like without token", "likeComment", "", c30, "UNAUTHENTICATED"},
		{"unlike without token", "unlikeComment", "", c30, "UNAUTHENTICATED"},
		{"like with unknown token", "likeComment", "tl_nope", c30, "UNAUTHENTICATED"},
		{"like an article", "likeComment", alice, s.articleID(t), "BAD_USER_INPUT"},
		{"like a malformed ID", "likeComment", alice, "***", "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, s.commentMutation(t, tc.token, tc.field, tc.id, ""), tc.want)
		})
	}
	if c := s.comment(t, "", c30); c == nil || c.LikeCount != 1 {
		t.Errorf("refused likes changed the count: %+v", c)
	}
}

// Mutations in one request run one after the other (GraphQL spec, "Mutation"), so each payload must show the
// state after its own mutation, including the writes of the mutations before it.
func TestMutationsInOneRequestSeeEachOthersWrites(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	articleID := s.articleID(t)
	_, alice := s.newReader(t, "Alice")
	ref := s.all(t, "", "OLDEST")
	if len(ref) != 45 {
		t.Fatalf("%d comments", len(ref))
	}

	t.Run("like then unlike", func(t *testing.T) {
		var data struct {
			A, B struct {
				Comment commentJSON `json:"comment"`
			}
		}
		s.mustDo(t, alice, `mutation($id: ID!) {
			a: likeComment(input: {commentId: $id}) { comment { likeCount viewerHasLiked } }
			b: unlikeComment(input: {commentId: $id}) { comment { likeCount viewerHasLiked } }
		}`, map[string]any{"id": ref[4].ID}, &data)
		if data.A.Comment.LikeCount != 1 || !data.A.Comment.ViewerHasLiked {
			t.Errorf("after like: %+v", data.A.Comment)
		}
		if data.B.Comment.LikeCount != 0 || data.B.Comment.ViewerHasLiked {
			t.Errorf("after unlike: likeCount %d, viewerHasLiked %v; want 0, false", data.B.Comment.LikeCount, data.B.Comment.ViewerHasLiked)
		}
	})

	t.Run("two replies", func(t *testing.T) {
		var data struct {
			A, B struct {
				Comment struct {
					Parent struct {
						ReplyCount int `json:"replyCount"`
					} `json:"parent"`
					Article struct {
						CommentCount int `json:"commentCount"`
					} `json:"article"`
				} `json:"comment"`
			}
		}
		s.mustDo(t, alice, `mutation($a: ID!, $p: ID!) {
			a: addComment(input: {articleId: $a, parentId: $p, body: "one"}) { comment { parent { replyCount } article { commentCount } } }
			b: addComment(input: {articleId: $a, parentId: $p, body: "two"}) { comment { parent { replyCount } article { commentCount } } }
		}`, map[string]any{"a": articleID, "p": ref[5].ID}, &data)
		if data.A.Comment.Parent.ReplyCount != 1 || data.A.Comment.Article.CommentCount != 46 {
			t.Errorf("after the first: %+v", data.A.Comment)
		}
		if data.B.Comment.Parent.ReplyCount != 2 || data.B.Comment.Article.CommentCount != 47 {
			t.Errorf("after the second: parent.replyCount %d, article.commentCount %d; want 2, 47", data.B.Comment.Parent.ReplyCount, data.B.Comment.Article.CommentCount)
		}
	})
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Errors, limits and the HTTP surface
// ---------------------------------------------------------------------------------------------------------------

// nestedReplies returns a query that goes through the given number of replies levels to leaf; its depth in
// fields is 3 + 2*levels + the depth of leaf.
func nestedReplies(levels int, leaf string) string {
	var b strings.Builder
	b.WriteString(`{ article(site: "demo", key: "social-credit") { comments(first: 1) { nodes { `)
	for range levels {
		b.WriteString("replies(first: 1) { nodes { ")
	}
	b.WriteString(leaf)
	for range levels {
		b.WriteString(" } }")
	}
	b.WriteString(" } } } }")
	return b.String()
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)

	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"syntax error", `{ site(slug: "demo") { slug }`, nil, "BAD_USER_INPUT"},
		{"unknown field", `{ site(slug: "demo") { nope } }`, nil, "BAD_USER_INPUT"},
		{"unknown argument", `{ site(slug: "demo", colour: "red") { slug } }`, nil, "BAD_USER_INPUT"},
		{"missing argument", `{ site { slug } }`, nil, "BAD_USER_INPUT"},
		{"unknown enum value", `{ article(site: "demo", key: "social-credit") { comments(orderBy: SIDEWAYS) { totalCount } } }`, nil, "BAD_USER_INPUT"},
		{"wrong variable type", `query($n: Int) { article(site: "demo", key: "social-credit") { comments(first: $n) { totalCount } } }`, map[string]any{"n": "ten"}, "BAD_USER_INPUT"},
		{"missing variable", `query($s: String!) { site(slug: $s) { slug } }`, nil, "BAD_USER_INPUT"},
		{"empty query", ``, nil, "BAD_USER_INPUT"},
		{"two operations without a name", `query A { viewer { id } } query B { viewer { id } }`, nil, "BAD_USER_INPUT"},
		{"subscription", `subscription { viewer { id } }`, nil, "BAD_USER_INPUT"},
		{"depth 22", nestedReplies(9, "id"), nil, "QUERY_TOO_COMPLEX"},
		{"depth 21", nestedReplies(8, "replies { totalCount }"), nil, "QUERY_TOO_COMPLEX"},
		// 3 + 6 (S) + 6 (R) + 6 (Q) + 1 = 22 fields deep.
		{"deep through fragments", `fragment Q on Comment { replies(first: 1) { nodes { replies(first: 1) { nodes { replies(first: 1) { nodes { id } } } } } } }
			fragment R on Comment { replies(first: 1) { nodes { replies(first: 1) { nodes { replies(first: 1) { nodes { ...Q } } } } } } }
			fragment S on Comment { replies(first: 1) { nodes { replies(first: 1) { nodes { replies(first: 1) { nodes { ...R } } } } } } }
			{ article(site: "demo", key: "social-credit") { comments(first: 1) { nodes { ...S } } } }`, nil, "QUERY_TOO_COMPLEX"},
		// 3 + 2 + 2*8 + 1 = 22 fields deep, through inline fragments and node(id:).
		{"deep through node and inline fragments", `{ site(slug: "demo") { article(key: "social-credit") { comments(first: 1) { nodes { ... on Node { ... on Comment {
			replies(first: 1) { nodes { replies(first: 1) { nodes { replies(first: 1) { nodes { replies(first: 1) { nodes {
			replies(first: 1) { nodes { replies(first: 1) { nodes { replies(first: 1) { nodes { replies(first: 1) { nodes { id } } } } } } } } } } } } } } } }
			} } } } } } }`, nil, "QUERY_TOO_COMPLEX"},
		{"wide", `{ article(site: "demo", key: "social-credit") { comments(first: 100) { nodes { id body
			replies(first: 100) { nodes { id body replies(first: 100) { nodes { id body } } } } } } } }`, nil, "QUERY_TOO_COMPLEX"},
		{"wide through aliases", `{ a: article(site: "demo", key: "social-credit") { comments(first: 100) { nodes { replies(first: 100) { nodes { id body } } } } }
			b: article(site: "demo", key: "social-credit") { comments(first: 100) { nodes { replies(first: 100) { nodes { id body } } } } }
			c: article(site: "demo", key: "social-credit") { comments(first: 100) { nodes { replies(first: 100) { nodes { id body } } } } } }`, nil, "QUERY_TOO_COMPLEX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, "", tc.query, tc.vars)
			expectError(t, r, tc.want)
			if tc.want == "QUERY_TOO_COMPLEX" && !strings.Contains(string(r.Data), "null") && len(r.Data) > 0 {
				t.Errorf("a refused query returned data: %s", r.Data)
			}
		})
	}

	within := []struct{ name, query string }{
		{"depth 20", nestedReplies(8, "id")},
		{"the widget's page", `{ article(site: "demo", key: "social-credit") { comments(first: 50) { totalCount pageInfo { hasNextPage endCursor }
			edges { cursor node { ...C replies(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ...C } } } } } } } }` + commentFragment},
		{"introspection", `{ __schema { queryType { name } types { name kind fields { name args { name type { name kind ofType { name kind ofType { name kind } } } } } } } }`},
	}
	for _, tc := range within {
		t.Run(tc.name, func(t *testing.T) {
			var data map[string]any
			s.mustDo(t, "", tc.query, nil, &data)
			if len(data) == 0 {
				t.Errorf("no data")
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	articleID := s.articleID(t)
	_, token := s.newReader(t, "HTTP Reader")

	t.Run("body over 256 KiB", func(t *testing.T) {
		pad := strings.Repeat("x", 257<<10)
		b, _ := json.Marshal(map[string]any{"query": `query($p: String) { viewer { id } }`, "variables": map[string]any{"p": pad}})
		res := s.raw(t, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, bytes.NewReader(b))
		if res.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", res.status)
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q", ct)
		}
		if res.header.Get("Access-Control-Allow-Origin") != "*" || res.header.Get("X-Request-Id") == "" {
			t.Errorf("413 lacks CORS or request ID headers: %v", res.header)
		}
		expectError(t, res.gql(t), "BAD_USER_INPUT")
	})
	t.Run("body over 256 KiB without Content-Length", func(t *testing.T) {
		pad := strings.Repeat("x", 257<<10)
		b, _ := json.Marshal(map[string]any{"query": `query($p: String) { viewer { id } }`, "variables": map[string]any{"p": pad}})
		// An io.Reader that http.NewRequest cannot size: the body goes chunked.
		res := s.raw(t, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, io.MultiReader(bytes.NewReader(b)))
		r := res.gql(t)
		expectError(t, r, "BAD_USER_INPUT")
		if res.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413 as with a Content-Length", res.status)
		}
	})
	t.Run("body just under the limit", func(t *testing.T) {
		pad := strings.Repeat("x", 250<<10)
		b, _ := json.Marshal(map[string]any{"query": `query($p: String!) { site(slug: $p) { slug } }`, "variables": map[string]any{"p": pad}})
		res := s.raw(t, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, bytes.NewReader(b))
		if res.status != http.StatusOK || len(res.gql(t).Errors) > 0 {
			t.Errorf("status %d: %s", res.status, res.body[:min(len(res.body), 300)])
		}
	})
	t.Run("malformed JSON body", func(t *testing.T) {
		res := s.raw(t, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"query": `))
		expectError(t, res.gql(t), "BAD_USER_INPUT")
		if res.status != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", res.status)
		}
	})

	t.Run("GET query", func(t *testing.T) {
		res := s.get(t, nil, url.Values{"query": {`query($s: String!) { site(slug: $s) { slug } }`}, "variables": {`{"s": "demo"}`}})
		var data struct{ Site struct{ Slug string } }
		decodeData(t, res.gql(t), &data)
		if res.status != http.StatusOK || data.Site.Slug != "demo" {
			t.Errorf("status %d, data %s", res.status, res.body)
		}
	})
	t.Run("GET query with a token", func(t *testing.T) {
		res := s.get(t, map[string]string{"Authorization": "Bearer " + token}, url.Values{"query": {`{ viewer { displayName } }`}})
		var data struct{ Viewer struct{ DisplayName string } }
		decodeData(t, res.gql(t), &data)
		if data.Viewer.DisplayName != "HTTP Reader" {
			t.Errorf("viewer = %s", res.body)
		}
	})
	t.Run("GET mutation is refused", func(t *testing.T) {
		q := fmt.Sprintf(`mutation { addComment(input: {articleId: %q, body: "over GET"}) { comment { id } } }`, articleID)
		res := s.get(t, map[string]string{"Authorization": "Bearer " + token}, url.Values{"query": {q}})
		// GraphQL over HTTP: a mutation over GET is 405 Method Not Allowed, pointing at POST.
		if res.status != http.StatusMethodNotAllowed {
			t.Errorf("status = %d, want 405", res.status)
		}
		if count, _ := s.counts(t); count != 45 {
			t.Errorf("the mutation ran over GET: commentCount = %d", count)
		}
		expectError(t, res.gql(t), "BAD_USER_INPUT")
	})
	t.Run("GET with malformed variables", func(t *testing.T) {
		res := s.get(t, nil, url.Values{"query": {`{ viewer { id } }`}, "variables": {`{not json`}})
		if res.status != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", res.status)
		}
		expectError(t, res.gql(t), "BAD_USER_INPUT")
	})
	t.Run("unsupported method", func(t *testing.T) {
		res := s.raw(t, http.MethodPut, "/graphql", map[string]string{"Content-Type": "application/json"}, strings.NewReader(`{"query":"{ viewer { id } }"}`))
		if res.status < 400 || res.status >= 500 {
			t.Errorf("status = %d, want a 4xx", res.status)
		}
		expectError(t, res.gql(t), "BAD_USER_INPUT")
	})
	t.Run("unsupported content type", func(t *testing.T) {
		res := s.raw(t, http.MethodPost, "/graphql", map[string]string{"Content-Type": "text/plain"}, strings.NewReader(`{"query":"{ viewer { id } }"}`))
		if res.status < 400 || res.status >= 500 {
			t.Errorf("status = %d, want a 4xx", res.status)
		}
		expectError(t, res.gql(t), "BAD_USER_INPUT")
	})

	t.Run("CORS preflight", func(t *testing.T) {
		res := s.raw(t, http.MethodOptions, "/graphql", map[string]string{
			"Origin":                         "https://news.example",
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization, content-type",
		}, nil)
		if res.status != http.StatusNoContent {
			t.Errorf("status = %d, want 204", res.status)
		}
		if got := res.header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q", got)
		}
		allow := strings.ToLower(res.header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type"} {
			if !strings.Contains(allow, h) {
				t.Errorf("Access-Control-Allow-Headers = %q lacks %s", allow, h)
			}
		}
		if m := res.header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") || !strings.Contains(m, "GET") {
			t.Errorf("Access-Control-Allow-Methods = %q", m)
		}
	})
	t.Run("CORS on responses", func(t *testing.T) {
		res := s.post(t, map[string]string{"Origin": "https://news.example"}, `{ viewer { id } }`, nil, nil)
		if res.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q", res.header.Get("Access-Control-Allow-Origin"))
		}
		if !strings.Contains(strings.ToLower(res.header.Get("Access-Control-Expose-Headers")), "x-request-id") {
			t.Errorf("X-Request-Id is not exposed: %q", res.header.Get("Access-Control-Expose-Headers"))
		}
	})

	t.Run("X-Request-Id", func(t *testing.T) {
		seen := map[string]bool{}
		for _, req := range []struct{ method, path string }{
			{http.MethodGet, "/graphql?query=%7Bviewer%7Bid%7D%7D"},
			{http.MethodGet, "/healthz"},
			{http.MethodGet, "/"},
			{http.MethodGet, "/no-such-page"},
			{http.MethodGet, "/graphql?query=%7B"},
		} {
			res := s.raw(t, req.method, req.path, nil, nil)
			id := res.header.Get("X-Request-Id")
			if id == "" || seen[id] {
				t.Errorf("%s %s: X-Request-Id %q (empty or repeated)", req.method, req.path, id)
			}
			seen[id] = true
		}
		res := s.post(t, nil, `{ viewer { id } }`, nil, nil)
		if id := res.header.Get("X-Request-Id"); id == "" || seen[id] {
			t.Errorf("POST: X-Request-Id %q", id)
		}
		res = s.post(t, map[string]string{"X-Request-Id": "from-the-proxy_42"}, `{ viewer { id } }`, nil, nil)
		if id := res.header.Get("X-Request-Id"); id != "from-the-proxy_42" {
			t.Errorf("a plain incoming request ID was not kept: %q", id)
		}
		res = s.post(t, map[string]string{"X-Request-Id": "has spaces and <html>"}, `{ viewer { id } }`, nil, nil)
		if id := res.header.Get("X-Request-Id"); id == "" || strings.ContainsAny(id, " <>") {
			t.Errorf("an unsafe incoming request ID was kept: %q", id)
		}
	})

	t.Run("content types", func(t *testing.T) {
		for _, tc := range []struct{ accept, want string }{
			{"", "application/json"},
			{"application/json", "application/json"},
			{"application/graphql-response+json", "application/graphql-response+json"},
			{"application/graphql-response+json, application/json;q=0.9", "application/graphql-response+json"},
		} {
			h := map[string]string{}
			if tc.accept != "" {
				h["Accept"] = tc.accept
			}
			res := s.post(t, h, `{ site(slug: "demo") { slug } }`, nil, nil)
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, tc.want) {
				t.Errorf("Accept %q: Content-Type = %q, want %s", tc.accept, ct, tc.want)
			}
			var data struct{ Site struct{ Slug string } }
			decodeData(t, res.gql(t), &data)
			if data.Site.Slug != "demo" {
				t.Errorf("Accept %q: %s", tc.accept, res.body)
			}
		}
	})

	t.Run("health", func(t *testing.T) {
		res := s.raw(t, http.MethodGet, "/healthz", nil, nil)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Errorf("status %d, Content-Type %q", res.status, res.header.Get("Content-Type"))
		}
		var body map[string]any
		if err := json.Unmarshal(res.body, &body); err != nil || len(body) != 1 || body["status"] != "ok" {
			t.Errorf("body = %s (%v), want {\"status\":\"ok\"}", res.body, err)
		}
	})

	t.Run("GraphiQL", func(t *testing.T) {
		res := s.raw(t, http.MethodGet, "/", nil, nil)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
			t.Fatalf("status %d, Content-Type %q", res.status, res.header.Get("Content-Type"))
		}
		low := strings.ToLower(string(res.body))
		if !strings.Contains(low, "<html") || !strings.Contains(low, "graphiql") || !strings.Contains(string(res.body), "/graphql") {
			t.Errorf("the page does not look like GraphiQL for /graphql: %.300s", res.body)
		}
	})
}

func TestPersistedQueries(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	query := `query Slug($s: String!) { site(slug: $s) { slug } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	vars := map[string]any{"s": "demo"}
	getParams := func() url.Values {
		e, _ := json.Marshal(ext)
		return url.Values{"extensions": {string(e)}, "variables": {`{"s": "demo"}`}}
	}
	ok := func(t *testing.T, res *httpResult) {
		t.Helper()
		var data struct{ Site struct{ Slug string } }
		decodeData(t, res.gql(t), &data)
		if data.Site.Slug != "demo" {
			t.Errorf("data = %s", res.body)
		}
	}

	t.Run("unknown hash", func(t *testing.T) {
		expectError(t, s.post(t, nil, "", vars, ext).gql(t), "PERSISTED_QUERY_NOT_FOUND")
		expectError(t, s.get(t, nil, getParams()).gql(t), "PERSISTED_QUERY_NOT_FOUND")
	})
	t.Run("query and hash", func(t *testing.T) { ok(t, s.post(t, nil, query, vars, ext)) })
	t.Run("hash alone over POST", func(t *testing.T) { ok(t, s.post(t, nil, "", vars, ext)) })
	t.Run("hash alone over GET", func(t *testing.T) { ok(t, s.get(t, nil, getParams())) })
	t.Run("hash that does not match the query", func(t *testing.T) {
		bad := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": strings.Repeat("0", 64)}}
		expectError(t, s.post(t, nil, query, vars, bad).gql(t), "BAD_USER_INPUT")
	})
	t.Run("unsupported version", func(t *testing.T) {
		bad := map[string]any{"persistedQuery": map[string]any{"version": 2, "sha256Hash": hash}}
		expectError(t, s.post(t, nil, "", vars, bad).gql(t), "BAD_USER_INPUT")
	})
}
