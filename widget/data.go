package widget

import (
	"encoding/json"
	"fmt"
	"time"
)

// PageQuery reads a page of an article's top-level comments, each with its first replies; without a cursor,
// sorted by likes, it is the thread's first view. The widget reads through the public GraphQL API like any
// other client, on the server (to prerender) and in the browser alike, always with this one query text.
const PageQuery = `query Page($site: String!, $article: String!, $order: CommentOrder, $after: String) {
  article(site: $site, key: $article) {
    id title url commentCount locked
    comments(first: 20, orderBy: $order, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { ...comment replies(first: 3) { ...replies } }
    }
  }
}
fragment comment on Comment {
  id bodyHTML createdAt editedAt status rule depth likeCount replyCount author { id displayName }
}
fragment replies on CommentConnection {
  totalCount pageInfo { hasNextPage endCursor } nodes { ...comment replies(first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { ...comment } } }
}`

// RepliesQuery reads the next page of a comment's replies.
const RepliesQuery = `query Replies($id: ID!, $after: String) {
  node(id: $id) { ... on Comment { replies(first: 20, after: $after) { ...replies } } }
}
fragment comment on Comment {
  id bodyHTML createdAt editedAt status rule depth likeCount replyCount author { id displayName }
}
fragment replies on CommentConnection {
  totalCount pageInfo { hasNextPage endCursor } nodes { ...comment replies(first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { ...comment } } }
}`

// commentFragment is what the widget reads of every comment.
const commentFragment = `fragment comment on Comment {
  id bodyHTML createdAt editedAt status rule depth likeCount replyCount author { id displayName }
}`

// The mutations the widget sends, and the query of the viewer's own state of the comments on the page.
const (
	createReaderMutation = `mutation($site: String!, $name: String!) {
  createReader(input: {site: $site, displayName: $name}) { token reader { displayName } } }`
	addCommentMutation = `mutation($article: ID!, $parent: ID, $body: String!) {
  addComment(input: {articleId: $article, parentId: $parent, body: $body}) { comment { ...comment } } }
` + commentFragment
	editCommentMutation = `mutation($id: ID!, $body: String!) {
  editComment(input: {commentId: $id, body: $body}) { comment { ...comment } } }
` + commentFragment
	deleteCommentMutation = `mutation($id: ID!) {
  deleteComment(input: {commentId: $id}) { comment { ...comment } } }
` + commentFragment
	likeMutation   = `mutation($id: ID!) { likeComment(input: {commentId: $id}) { comment { likeCount } } }`
	unlikeMutation = `mutation($id: ID!) { unlikeComment(input: {commentId: $id}) { comment { likeCount } } }`
	bodyQuery      = `query($id: ID!) { node(id: $id) { ... on Comment { body } } }`
	// tokenCheckQuery asks whether the API still takes a token: it answers UNAUTHENTICATED if not.
	tokenCheckQuery = `query { viewer { id } }`
	viewerQuery     = `query($ids: [ID!]!) { viewer { displayName } nodes(ids: $ids) { ... on Comment { id viewerHasLiked viewerCanEdit } } }`
)

// Thread is what the widget shows of an article's discussion.
type Thread struct {
	Site      string `json:"site"`
	Article   string `json:"article"`
	ArticleID string `json:"articleId"`
	Title     string `json:"title"`
	// URL is the article's address as Threadline stored it at the first embed ("" when none): the base of
	// every comment's permalink (see permalinkBase).
	URL          string `json:"url,omitempty"`
	CommentCount int    `json:"commentCount"`
	Locked       bool   `json:"locked,omitempty"` // a moderator closed it to new comments
	Comments     Page   `json:"comments"`
}

// Page is a page of comments and where the list goes on.
type Page struct {
	Total     int       `json:"total"`
	HasNext   bool      `json:"hasNext"`
	EndCursor string    `json:"endCursor,omitempty"`
	Items     []Comment `json:"items"`
}

// Comment is one comment as the widget shows it.
type Comment struct {
	ID        string    `json:"id"`
	Author    string    `json:"author,omitempty"` // "" when anonymous or deleted
	AuthorID  string    `json:"authorId,omitempty"`
	BodyHTML  string    `json:"bodyHTML"` // sanitized by the server
	CreatedAt time.Time `json:"createdAt"`
	Edited    bool      `json:"edited,omitempty"`
	Deleted   bool      `json:"deleted,omitempty"`
	// Removed is set for a comment a moderator removed: readers see Rule in its place.
	Removed bool   `json:"removed,omitempty"`
	Rule    string `json:"rule,omitempty"`
	// Pending is set for the reader's own comment that waits for a moderator; only they see it.
	Pending    bool  `json:"pending,omitempty"`
	Gone       bool  `json:"-"` // deleted by the reader on this page, with nothing left to show
	Depth      int   `json:"depth"`
	LikeCount  int   `json:"likeCount"`
	ReplyCount int   `json:"replyCount"`
	Replies    *Page `json:"replies,omitempty"`
}

// gqlComment is a comment as FirstViewQuery returns it.
type gqlComment struct {
	ID         string     `json:"id"`
	BodyHTML   string     `json:"bodyHTML"`
	CreatedAt  time.Time  `json:"createdAt"`
	EditedAt   *time.Time `json:"editedAt"`
	Status     string     `json:"status"`
	Rule       *string    `json:"rule"`
	Depth      int        `json:"depth"`
	LikeCount  int        `json:"likeCount"`
	ReplyCount int        `json:"replyCount"`
	Author     *struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	} `json:"author"`
	Replies *gqlPage `json:"replies"`
}

type gqlPage struct {
	TotalCount int `json:"totalCount"`
	PageInfo   struct {
		HasNextPage bool    `json:"hasNextPage"`
		EndCursor   *string `json:"endCursor"`
	} `json:"pageInfo"`
	Nodes []gqlComment `json:"nodes"`
}

// DecodeThread turns the response to PageQuery into a Thread. It returns an error for a GraphQL error or an
// article that does not exist.
func DecodeThread(response []byte, site, article string) (*Thread, error) {
	var data struct {
		Article *struct {
			ID           string  `json:"id"`
			Title        string  `json:"title"`
			URL          *string `json:"url"`
			CommentCount int     `json:"commentCount"`
			Locked       bool    `json:"locked"`
			Comments     gqlPage `json:"comments"`
		} `json:"article"`
	}
	if err := decode(response, &data); err != nil {
		return nil, err
	}
	a := data.Article
	if a == nil {
		return nil, fmt.Errorf("there is no article %q on site %q", article, site)
	}
	var pageURL string
	if a.URL != nil {
		pageURL = *a.URL
	}
	return &Thread{
		URL:          pageURL,
		Site:         site,
		Article:      article,
		ArticleID:    a.ID,
		Title:        a.Title,
		CommentCount: a.CommentCount,
		Locked:       a.Locked,
		Comments:     *a.Comments.page(),
	}, nil
}

// DecodeReplies turns the response to RepliesQuery into a page of replies.
func DecodeReplies(response []byte) (*Page, error) {
	var data struct {
		Node *struct {
			Replies gqlPage `json:"replies"`
		} `json:"node"`
	}
	if err := decode(response, &data); err != nil {
		return nil, err
	}
	if data.Node == nil {
		return nil, fmt.Errorf("the comment is gone")
	}
	return data.Node.Replies.page(), nil
}

// decode reads a GraphQL response's data into v (nil to ignore it), or returns its first error as a *gqlError.
func decode(response []byte, v any) error {
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(response, &r); err != nil {
		return fmt.Errorf("the server's answer could not be read")
	}
	if len(r.Errors) > 0 {
		e := r.Errors[0]
		return &gqlError{code: e.Extensions.Code, message: friendly(e.Extensions.Code, e.Message)}
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(r.Data, v)
}

func (p *gqlPage) page() *Page {
	out := &Page{Total: p.TotalCount, HasNext: p.PageInfo.HasNextPage, Items: make([]Comment, len(p.Nodes))}
	if p.PageInfo.EndCursor != nil {
		out.EndCursor = *p.PageInfo.EndCursor
	}
	for i, n := range p.Nodes {
		c := Comment{
			ID:         n.ID,
			BodyHTML:   n.BodyHTML,
			CreatedAt:  n.CreatedAt,
			Edited:     n.EditedAt != nil,
			Deleted:    n.Status == "DELETED",
			Removed:    n.Status == "REMOVED",
			Pending:    n.Status == "PENDING",
			Depth:      n.Depth,
			LikeCount:  n.LikeCount,
			ReplyCount: n.ReplyCount,
		}
		if n.Author != nil {
			c.Author, c.AuthorID = n.Author.DisplayName, n.Author.ID
		}
		if n.Rule != nil {
			c.Rule = *n.Rule
		}
		if n.Replies != nil {
			c.Replies = n.Replies.page()
		}
		out.Items[i] = c
	}
	return out
}
