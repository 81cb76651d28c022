package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
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

// TestFragmentBombIsRefusedAtOnce sends 40 fragments that each spread the next twice: a few hundred bytes that
// expand to a trillion fields. The server must refuse it as too complex without expanding it; before the shape
// limit, gqlgen's complexity walk spent seconds on 24 such fragments and would never finish 40.
func TestFragmentBombIsRefusedAtOnce(t *testing.T) {
	s := newTestServer(t)
	const levels = 40
	var q strings.Builder
	q.WriteString("query { ...F0 }")
	for i := range levels {
		fmt.Fprintf(&q, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&q, " fragment F%d on Query { viewer { id } }", levels)
	body, _ := json.Marshal(map[string]string{"query": q.String()})
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(s.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	var r gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.code() != "QUERY_TOO_COMPLEX" {
		t.Errorf("code %q, want QUERY_TOO_COMPLEX: %+v", r.code(), r.Errors)
	}
}
