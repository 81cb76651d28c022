package server_test

import (
	"strings"
	"testing"
)

// TestSQLMetacharactersAreData sends SQL in every string a client controls: names, bodies, keys, cursors and
// IDs. Each is stored and returned exactly, or refused as bad input; nothing else in the database changes.
func TestSQLMetacharactersAreData(t *testing.T) {
	s := newTestServer(t)
	article := s.articleID(t)
	const name = `Robert'); DROP TABLE comments;--`
	_, token := s.newReader(t, name)
	bodies := []string{
		`' OR 1=1 --`,
		`"; DELETE FROM readers; --`,
		`1; UPDATE comments SET like_count = 999 WHERE 1=1; --`,
		`%' AND 1=(SELECT COUNT(*) FROM sqlite_master) --`,
		"\\'; ATTACH DATABASE '/tmp/x.db' AS x; --",
	}
	for _, body := range bodies {
		id := s.addComment(t, token, article, "", body)
		var got struct {
			Node struct {
				Body   string
				Author struct{ DisplayName string }
			}
		}
		s.mustDo(t, "", `query($id: ID!) { node(id: $id) { ... on Comment { body author { displayName } } } }`, map[string]any{"id": id}, &got)
		if got.Node.Body != body || got.Node.Author.DisplayName != name {
			t.Errorf("stored %q by %q, want %q by %q", got.Node.Body, got.Node.Author.DisplayName, body, name)
		}
	}
	for _, q := range []struct{ query, code string }{
		{`{ article(site: "demo' OR '1'='1", key: "x") { id } }`, ""},
		{`{ article(site: "demo", key: "social-credit' --") { id } }`, ""},
		{`{ node(id: "Q29tbWVudDoxIE9SIDE9MQ") { id } }`, "BAD_USER_INPUT"}, // "Comment:1 OR 1=1"
		{`{ article(site: "demo", key: "social-credit") { comments(after: "YzE6dG9wOjA6MSBPUiAxPTE6MQ") { totalCount } } }`, "BAD_USER_INPUT"},
	} {
		r := s.do(t, "", q.query, nil)
		if r.code() != q.code {
			t.Errorf("%s: code %q, want %q", q.query, r.code(), q.code)
		}
		if q.code == "" && !strings.Contains(string(r.Data), "null") {
			t.Errorf("%s found something: %s", q.query, r.Data)
		}
	}
	var counts struct {
		Article struct {
			CommentCount int
			Comments     struct{ Nodes []struct{ LikeCount int } }
		}
	}
	s.mustDo(t, "", `{ article(site: "demo", key: "social-credit") { commentCount comments(first: 100) { nodes { likeCount } } } }`, nil, &counts)
	if counts.Article.CommentCount != 45+len(bodies) {
		t.Errorf("commentCount %d, want %d", counts.Article.CommentCount, 45+len(bodies))
	}
	for _, c := range counts.Article.Comments.Nodes {
		if c.LikeCount != 0 {
			t.Fatalf("a like count became %d", c.LikeCount)
		}
	}
}
