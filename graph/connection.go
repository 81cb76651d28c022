package graph

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/threadline/threadline/thread"
)

// newConnection turns a page into a Relay connection.
func newConnection(ctx context.Context, page *thread.Page, total int) *CommentConnection {
	conn := &CommentConnection{
		Edges:      make([]*CommentEdge, len(page.Comments)),
		Nodes:      make([]*Comment, len(page.Comments)),
		PageInfo:   &PageInfo{HasNextPage: page.HasNext},
		TotalCount: total,
	}
	for i, c := range page.Comments {
		conn.Nodes[i] = newComment(ctx, c)
		conn.Edges[i] = &CommentEdge{Cursor: page.Cursor(c), Node: conn.Nodes[i]}
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn
}

// pageRequest turns a connection field's arguments into a request for a page in order: first defaulted and
// capped, after decoded (and refused when it belongs to another order).
func pageRequest(order thread.Order, first *int, after *string) (thread.PageRequest, error) {
	req := thread.PageRequest{Order: order}
	var err error
	if req.First, err = thread.PageSize(first); err != nil {
		return req, err
	}
	if after != nil {
		k, err := thread.DecodeCursor(order, *after)
		if err != nil {
			return req, err
		}
		req.After = &k
	}
	return req, nil
}

// repliesKeyFor returns the loader key of a comment's replies page for the field's arguments.
func repliesKeyFor(parent int64, first *int, after *string) (repliesKey, error) {
	n, err := thread.PageSize(first)
	if err != nil {
		return repliesKey{}, err
	}
	k := repliesKey{parent: parent, first: n}
	if after != nil {
		k.after = *after
	}
	return k, nil
}

// prefetch primes the request's loaders with what the query asks of a page of comments, one query per kind for
// the whole page: the replies of every comment (level by level, as deep as the query goes), then the authors of
// all of them and whether the viewer likes them. Field resolvers then find everything in the loaders' caches,
// so a page costs a constant number of queries whatever its size, and no resolver waits for a batch to fill.
func prefetch(ctx context.Context, svc *thread.Service, comments []*thread.Comment) error {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(comments) == 0 {
		return nil
	}
	op := graphql.GetOperationContext(ctx)
	l := loadersFor(ctx)
	all := append([]*thread.Comment(nil), comments...)
	wantAuthors, wantLiked := false, false

	type level struct {
		comments []*thread.Comment
		fields   []graphql.CollectedField
	}
	queue := []level{{comments, commentFields(op, fc.Field.Selections)}}
	for len(queue) > 0 {
		lv := queue[0]
		queue = queue[1:]
		for _, f := range lv.fields {
			switch f.Name {
			case "author":
				wantAuthors = true
			case "viewerHasLiked":
				wantLiked = true
			case "replies":
				replies, err := prefetchReplies(ctx, svc, l, op, f, lv.comments)
				if err != nil {
					return err
				}
				all = append(all, replies...)
				queue = append(queue, level{replies, commentFields(op, f.Selections)})
			}
		}
	}

	if wantAuthors {
		var ids []int64
		for _, c := range all {
			if c.AuthorID != 0 {
				ids = append(ids, c.AuthorID)
			}
		}
		readers, err := svc.Readers(ctx, ids)
		if err != nil {
			return err
		}
		for id, r := range readers {
			l.readers.Prime(id, r)
		}
	}
	if wantLiked && thread.Viewer(ctx) != nil {
		ids := make([]int64, len(all))
		for i, c := range all {
			ids[i] = c.ID
		}
		liked, err := svc.LikedByViewer(ctx, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			l.liked.Prime(id, liked[id])
		}
	}
	return nil
}

// prefetchReplies loads the replies page that field f asks for, for every comment of a level, and primes the
// replies loader with them. It returns the replies.
func prefetchReplies(ctx context.Context, svc *thread.Service, l *Loaders, op *graphql.OperationContext, f graphql.CollectedField, comments []*thread.Comment) ([]*thread.Comment, error) {
	args := f.ArgumentMap(op.Variables)
	first, after := intArg(args["first"]), stringArg(args["after"])
	var keys []repliesKey
	for _, c := range comments {
		k, err := repliesKeyFor(c.ID, first, after)
		if err != nil {
			return nil, nil // the resolver reports the bad argument
		}
		if c.ReplyCount == 0 {
			l.replies.Prime(k, &thread.Page{Order: thread.OrderOldest})
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	pages, err := loadReplies(ctx, svc, keys)
	if err != nil {
		if thread.ErrorCode(err) == thread.CodeInvalid {
			return nil, nil // a bad cursor: the resolver reports it where it belongs
		}
		return nil, err
	}
	var replies []*thread.Comment
	for _, k := range keys {
		l.replies.Prime(k, pages[k])
		replies = append(replies, pages[k].Comments...)
	}
	return replies, nil
}

// commentFields returns the fields selected on the comments of a connection, through `edges { node }` and
// `nodes`, fragments included.
func commentFields(op *graphql.OperationContext, connection ast.SelectionSet) []graphql.CollectedField {
	comment := []string{"Comment", "Node"}
	var out []graphql.CollectedField
	for _, f := range graphql.CollectFields(op, connection, []string{"CommentConnection"}) {
		switch f.Name {
		case "nodes":
			out = append(out, graphql.CollectFields(op, f.Selections, comment)...)
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{"CommentEdge"}) {
				if e.Name == "node" {
					out = append(out, graphql.CollectFields(op, e.Selections, comment)...)
				}
			}
		}
	}
	return out
}

func intArg(v any) *int {
	switch n := v.(type) {
	case int64:
		i := int(n)
		return &i
	case int:
		return &n
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return intArg(i)
		}
	}
	return nil
}

func stringArg(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}
