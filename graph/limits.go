package graph

import (
	"context"
	"fmt"

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
	MaxFields     = 2_000 // fields once fragments are spread; the widget's page query has about 60
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
	c.Site.ModerationQueue = func(child int, _ *string, first *int, _ *string) int {
		return 1 + pageSize(first)*child
	}
	c.Article.ModerationLog = func(child int, first *int, _ *string) int {
		return 1 + pageSize(first)*child
	}
	c.Article.ViewerModeratedComments = func(child int) int {
		return 1 + thread.MaxModeratedShown*child
	}
	c.Query.Articles = func(child int, _ string, keys []string) int {
		return 1 + len(keys)*child
	}
	c.Query.Nodes = func(child int, ids []string) int {
		return 1 + len(ids)*child
	}
}

// shapeLimit refuses operations nested deeper than maxDepth fields, or that expand to more than maxFields
// fields once their fragments are spread. It runs before the complexity limit: gqlgen's complexity walk expands
// every fragment spread anew, so a few fragments that each spread the next twice ("fragment bombs") would make
// it walk millions of fields before refusing. This walk computes each fragment's shape once.
type shapeLimit struct{ maxDepth, maxFields int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                          { return "ShapeLimit" }
func (shapeLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (l shapeLimit) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	w := shapeWalker{doc: op.Doc, fragments: map[string]shape{}, maxFields: l.maxFields}
	sh := w.set(op.Operation.SelectionSet)
	var msg string
	switch {
	case sh.depth > l.maxDepth:
		msg = fmt.Sprintf("the operation is %d fields deep; the limit is %d", sh.depth, l.maxDepth)
	case sh.fields > l.maxFields:
		msg = fmt.Sprintf("the operation expands to more than %d fields", l.maxFields)
	default:
		return nil
	}
	err := gqlerror.Errorf("%s", msg)
	err.Extensions = map[string]any{"code": string(thread.CodeTooComplex)}
	return err
}

// shape is the depth of a selection and the number of fields it expands to.
type shape struct{ depth, fields int }

type shapeWalker struct {
	doc       *ast.QueryDocument
	fragments map[string]shape // fragment name → its shape, computed once
	maxFields int
}

// set returns the shape of a selection set. Counts stop growing past maxFields, so they cannot overflow.
// Validation has already refused fragment cycles.
func (w *shapeWalker) set(set ast.SelectionSet) shape {
	var out shape
	add := func(sh shape) {
		out.depth = max(out.depth, sh.depth)
		out.fields = min(out.fields+sh.fields, w.maxFields+1)
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			sub := w.set(s.SelectionSet)
			add(shape{depth: 1 + sub.depth, fields: 1 + sub.fields})
		case *ast.InlineFragment:
			add(w.set(s.SelectionSet))
		case *ast.FragmentSpread:
			sh, ok := w.fragments[s.Name]
			if !ok {
				if f := w.doc.Fragments.ForName(s.Name); f != nil {
					w.fragments[s.Name] = shape{} // a cycle, were there one, would count as empty
					sh = w.set(f.SelectionSet)
					w.fragments[s.Name] = sh
				}
			}
			add(sh)
		}
	}
	return out
}
