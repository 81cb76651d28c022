package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/threadline/threadline/internal/teststore"
	"github.com/threadline/threadline/internal/threadgen"
	"github.com/threadline/threadline/server"
)

// firstViewQuery is the widget's first view: 50 top-level comments with their first 3 replies.
const firstViewQuery = `{
  article(site: "bench", key: "generated") {
    id commentCount
    comments(first: 50) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node {
        id body bodyHTML createdAt editedAt status depth likeCount replyCount viewerHasLiked viewerCanEdit
        author { id displayName }
        replies(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
          id body bodyHTML createdAt editedAt status depth likeCount replyCount viewerHasLiked viewerCanEdit
          author { id displayName }
        } } }
      } }
    }
  }
}`

type benchServer struct {
	handler   http.Handler
	token     string
	articleID string
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx := context.Background()
	db, svc := teststore.Open(b)
	// 250 top-level comments with 3 replies each: 1,000 comments.
	if _, err := threadgen.Generate(ctx, svc, 250, 3); err != nil {
		b.Fatal(err)
	}
	_, token, err := svc.CreateReader(ctx, threadgen.Site, "Benchmarker")
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &benchServer{handler: server.New(svc, server.Options{Log: log, Health: db.Ping}), token: token}
	// IDs are opaque: ask for it like a client would.
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, `/graphql?query={article(site:"bench",key:"generated"){id}}`, nil))
	var resp struct {
		Data struct{ Article struct{ ID string } }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Data.Article.ID == "" {
		b.Fatalf("article ID: %v %s", err, rec.Body.String())
	}
	s.articleID = resp.Data.Article.ID
	return s
}

// post runs one GraphQL request through the full handler (middleware, auth, executor, SQL, JSON) without a
// network, and fails on any error in the response.
func (s *benchServer) post(b *testing.B, token string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("status %d: %.300s", rec.Code, rec.Body.String())
	}
}

func mustJSON(b *testing.B, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkFirstView reads the first view of a 1,000-comment thread through the full handler.
func BenchmarkFirstView(b *testing.B) {
	s := newBenchServer(b)
	body := mustJSON(b, map[string]any{"query": firstViewQuery})
	for _, tc := range []struct{ name, token string }{{"anonymous", ""}, {"signed-in", s.token}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				s.post(b, tc.token, body)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.SetParallelism(16) // 32 concurrent requests on 2 cores, as in DESIGN.md's targets
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s.post(b, tc.token, body)
				}
			})
		})
	}
}

// BenchmarkAddComment posts top-level comments, each acknowledged only after its transaction is durable.
func BenchmarkAddComment(b *testing.B) {
	s := newBenchServer(b)
	const mutation = `mutation($a: ID!, $b: String!) { addComment(input: {articleId: $a, body: $b}) { comment { id createdAt } } }`
	var n atomic.Int64
	next := func() []byte {
		return mustJSON(b, map[string]any{"query": mutation, "variables": map[string]any{
			"a": s.articleID, "b": fmt.Sprintf("Comment number %d, with *a little* Markdown.", n.Add(1)),
		}})
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			s.post(b, s.token, next())
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.post(b, s.token, next())
			}
		})
	})
}
