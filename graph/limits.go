package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/threadline/threadline/thread"
)

// Limits on one operation. A page of 50 comments with 3 replies each, as the widget asks, costs about 2,500 and
// is 14 deep; the standard introspection query is 13 deep.
const (
	MaxComplexity = 25_000
	MaxDepth      = 20
)

// setComplexity makes each connection field cost its page size times what each item costs, so that the
// complexity limit bounds the rows a query can ask for.
func setComplexity(c *ComplexityRoot) {
	pageSize := func(first *int) int {
		n, err := thread.PageSize(first)
		if err != nil {
			return 1 // the resolver refuses a negative first; it costs nothing
		}
		return max(n, 1)
	}
	c.Article.Comments = func(child int, first *int, _ *string, _ *CommentOrder) int {
		return 1 + pageSize(first)*child
	}
	c.Comment.Replies = func(child int, first *int, _ *string) int {
		return 1 + pageSize(first)*child
	}
	c.Query.Nodes = func(child int, ids []string) int {
		return 1 + len(ids)*child
	}
}

// depthLimit refuses operations nested deeper than max fields.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                          { return "DepthLimit" }
func (depthLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if depth := selectionDepth(op.Doc, op.Operation.SelectionSet, 0); depth > d.max {
		err := gqlerror.Errorf("the operation is %d fields deep; the limit is %d", depth, d.max)
		err.Extensions = map[string]any{"code": string(thread.CodeTooComplex)}
		return err
	}
	return nil
}

// selectionDepth returns the depth of the deepest field under set. Validation has already refused fragment
// cycles, and seen guards against them anyway.
func selectionDepth(doc *ast.QueryDocument, set ast.SelectionSet, seen int) int {
	if seen > 1000 {
		return seen
	}
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = 1 + selectionDepth(doc, s.SelectionSet, seen+1)
		case *ast.InlineFragment:
			d = selectionDepth(doc, s.SelectionSet, seen+1)
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil {
				d = selectionDepth(doc, f.SelectionSet, seen+1)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}
