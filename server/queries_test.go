package server_test

import (
	"fmt"
	"testing"
)

// pageQuery is what the widget asks for a first view: top-level comments with their first replies, authors and
// the viewer's likes, and one more level of replies.
const pageQuery = `query($first: Int!) {
  article(site: "demo", key: "social-credit") {
    commentCount
    comments(first: $first, orderBy: NEWEST) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node {
        id body bodyHTML createdAt likeCount viewerHasLiked viewerCanEdit replyCount
        author { id displayName }
        replies(first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes {
          id body likeCount viewerHasLiked author { displayName }
          replies(first: 3) { totalCount nodes { id author { displayName } } }
        } }
      } }
    }
  }
}`

// TestPageCostsConstantQueries proves there is no N+1: a page of 50 comments, each with replies by different
// readers and replies to those, costs the same number of SQL statements as a page of 5.
func TestPageCostsConstantQueries(t *testing.T) {
	s := newTestServer(t)
	article := s.articleID(t)
	// 50 top-level comments (45 in the sample, 5 new), each with 3 replies from 3 readers, each reply with a
	// reply of its own, and likes from the viewer.
	readers := make([]string, 3)
	for i := range readers {
		_, readers[i] = s.newReader(t, fmt.Sprintf("Reader %d", i))
	}
	for i := range 5 {
		s.addComment(t, readers[0], article, "", fmt.Sprintf("new comment %d", i))
	}
	var first struct {
		Article struct {
			Comments struct{ Nodes []struct{ ID string } }
		}
	}
	s.mustDo(t, "", `{ article(site: "demo", key: "social-credit") { comments(first: 50, orderBy: NEWEST) { nodes { id } } } }`, nil, &first)
	top := first.Article.Comments.Nodes
	if len(top) != 50 {
		t.Fatalf("want 50 top-level comments, have %d", len(top))
	}
	for _, c := range top {
		for j, token := range readers {
			reply := s.addComment(t, token, article, c.ID, fmt.Sprintf("reply %d", j))
			s.addComment(t, readers[(j+1)%3], article, reply, "a reply to the reply")
		}
		s.mustDo(t, readers[0], `mutation($id: ID!) { likeComment(input: {commentId: $id}) { comment { id } } }`, map[string]any{"id": c.ID}, nil)
	}

	s.DB.Settle(t) // the event log's follower has read the writes above (on PostgreSQL)
	cost := func(token string, n int) int64 {
		before := s.DB.QueryCount()
		var data struct {
			Article struct {
				Comments struct {
					Edges []struct {
						Node struct {
							Replies struct {
								Nodes []struct {
									Replies struct{ Nodes []struct{ ID string } }
								}
							}
						}
					}
				}
			}
		}
		s.mustDo(t, token, pageQuery, map[string]any{"first": n}, &data)
		edges := data.Article.Comments.Edges
		if len(edges) != n {
			t.Fatalf("page of %d: got %d comments", n, len(edges))
		}
		for _, e := range edges {
			if len(e.Node.Replies.Nodes) != 3 || len(e.Node.Replies.Nodes[0].Replies.Nodes) != 1 {
				t.Fatalf("page of %d: a comment came without its replies: %+v", n, e.Node.Replies)
			}
		}
		return s.DB.QueryCount() - before
	}
	for _, tc := range []struct {
		name  string
		token string
		max   int64
	}{
		// site, article, page, replies, replies of replies, authors; signed in, also the token and the likes
		{"anonymous", "", 6},
		{"signed in", readers[0], 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			small, large := cost(tc.token, 5), cost(tc.token, 50)
			t.Logf("SQL statements: page of 5: %d, page of 50: %d", small, large)
			if large != small {
				t.Errorf("a page of 50 cost %d statements and a page of 5 cost %d: the cost grows with the page", large, small)
			}
			if large > tc.max {
				t.Errorf("a page cost %d statements; want at most %d", large, tc.max)
			}
		})
	}
}
