package graph

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/threadline/threadline/thread"
)

// Limits on one operation. A page of 50 comments with 3 replies each, as the widget asks, costs about 2,500 and
// is 14 deep; the standard introspection query is 13 deep.
const (
	MaxComplexity = 25_000
	MaxDepth      = 20
	MaxFields     = 2_000 // fields once fragments are spread; the widget's page query has about 60
)

// Limits on one request's document, checked before gqlgen validates it. Validation is not linear: the rule
// that fields sharing a response name can be merged compares them pairwise, so 20,000 copies of one field
// took a core for half a minute, and 1,000 conflicting aliases answered 114 MB of errors. The widget's page
// query has 120 tokens; GraphiQL's introspection query, the largest a tool sends us, 2 KB and 184 tokens.
const (
	MaxQueryBytes = 32 << 10 // the query text
	MaxTokens     = 8_000
	MaxOperations = 16
	MaxFragments  = 64  // fragment definitions
	MaxSpreads    = 256 // fragment spreads
	MaxAliases    = 256
	MaxDirectives = 64
	MaxArguments  = 512 // on fields and directives
	MaxVariables  = 64  // defined in the document, or sent
	// MaxSameResponse bounds the fields that share one response path (a.b.c) once fragments are spread: the
	// merge rule compares each such pair, so a document costs it at most MaxSameResponse × MaxFields.
	MaxSameResponse = 16
	// MaxErrors bounds the errors of one response; validation stops reporting after as many.
	MaxErrors = 20
	// maxErrorMessage bounds an error's message, which may quote what the client sent.
	maxErrorMessage = 1024
)

// MaxResponseText bounds the text one response's fields return, counting strings of minText bytes or more
// (bodies, their HTML, titles). The complexity limit bounds rows, not their size: 100 aliases of a page of 100
// comments at the length limit would answer 8 GB. The widget's page of 200 comments of 2,000 characters, body
// and HTML, is about 1 MB. A reader's own comments in exportMyData do not count: their write limits bound them.
const (
	MaxResponseText = 8 << 20
	minText         = 256
)

// Limits on the JSON of a request's variables and extensions (a comment's body is at most 60 KB of JSON; the
// request body limit bounds the bytes).
const (
	MaxVariableValues     = 2_000 // every value, inside lists and objects too
	MaxVariableDepth      = 8
	MaxExtensionValues    = 32
	MaxExtensionDepth     = 4
	maxExtensionStringLen = 256
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

// tooComplex is the error of a request over a limit of its shape.
func tooComplex(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": string(thread.CodeTooComplex)}
	return err
}

// badInput is the error of a request whose variables or extensions are over a limit.
func badInput(format string, args ...any) *gqlerror.Error {
	msg := fmt.Sprintf(format, args...)
	return &gqlerror.Error{Message: msg, Err: thread.Errorf(thread.CodeInvalid, "%s", msg)}
}

// jsonLimits refuses variables and extensions larger or deeper than the limits, before anything reads them.
type jsonLimits struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = jsonLimits{}

func (jsonLimits) ExtensionName() string                          { return "JSONLimits" }
func (jsonLimits) Validate(schema graphql.ExecutableSchema) error { return nil }

func (jsonLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if len(p.Variables) > MaxVariables {
		return badInput("the request sends %d variables; the limit is %d", len(p.Variables), MaxVariables)
	}
	if n, ok := jsonSize(p.Variables, MaxVariableDepth, 0); !ok || n > MaxVariableValues {
		return badInput("the variables are nested deeper than %d or hold more than %d values", MaxVariableDepth, MaxVariableValues)
	}
	if n, ok := jsonSize(p.Extensions, MaxExtensionDepth, maxExtensionStringLen); !ok || n > MaxExtensionValues {
		return badInput("the extensions are nested deeper than %d, hold more than %d values, or a string longer than %d bytes",
			MaxExtensionDepth, MaxExtensionValues, maxExtensionStringLen)
	}
	return nil
}

// jsonSize counts the values in v (an object decoded from JSON), and reports false if they nest deeper than
// depth or, when maxString > 0, a string or key is longer than maxString.
func jsonSize(v any, depth, maxString int) (int, bool) {
	if depth < 0 {
		return 0, false
	}
	n := 1
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if maxString > 0 && len(k) > maxString {
				return 0, false
			}
			m, ok := jsonSize(e, depth-1, maxString)
			if !ok {
				return 0, false
			}
			n += m
		}
	case []any:
		for _, e := range v {
			m, ok := jsonSize(e, depth-1, maxString)
			if !ok {
				return 0, false
			}
			n += m
		}
	case string:
		if maxString > 0 && len(v) > maxString {
			return 0, false
		}
	}
	return n, true
}

// documentLimits parses the query itself, with the token limit, and refuses a document over any limit of its
// shape before gqlgen parses it again and validates it. gqlgen runs no hook between its parse and its
// validation; operation parameter mutators run before both, so this is one. A document found in the query
// cache passed these limits when it was put there. The second parse costs what the first did: a few hundred
// microseconds for the largest document the token limit lets through.
type documentLimits struct {
	known interface{ has(query string) bool }
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = documentLimits{}

func (documentLimits) ExtensionName() string                          { return "DocumentLimits" }
func (documentLimits) Validate(schema graphql.ExecutableSchema) error { return nil }

func (l documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if len(p.Query) > MaxQueryBytes {
		return tooComplex("the query is %d bytes long; the limit is %d", len(p.Query), MaxQueryBytes)
	}
	if p.Query == "" || (l.known != nil && l.known.has(p.Query)) {
		return nil // gqlgen says what an empty query lacks
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, MaxTokens)
	if err != nil {
		gqlErr, ok := err.(*gqlerror.Error)
		if !ok {
			gqlErr = gqlerror.Wrap(err)
		}
		if strings.HasPrefix(gqlErr.Message, "exceeded token limit") {
			return tooComplex("the query has more than %d tokens", MaxTokens)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlErr
	}
	return checkDocument(doc)
}

// checkDocument refuses a parsed, not yet validated, document over a limit. Nothing in it is trusted yet:
// fragments may be missing, repeated or cyclic.
func checkDocument(doc *ast.QueryDocument) *gqlerror.Error {
	if len(doc.Operations) > MaxOperations {
		return tooComplex("the document has %d operations; the limit is %d", len(doc.Operations), MaxOperations)
	}
	if len(doc.Fragments) > MaxFragments {
		return tooComplex("the document has %d fragments; the limit is %d", len(doc.Fragments), MaxFragments)
	}
	var c counts
	for _, op := range doc.Operations {
		c.variables += len(op.VariableDefinitions)
		c.directives(op.Directives)
		for _, v := range op.VariableDefinitions {
			c.directives(v.Directives)
		}
		c.set(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		c.directives(f.Directives)
		c.set(f.SelectionSet)
	}
	for _, over := range []struct {
		what     string
		n, limit int
	}{
		{"variables", c.variables, MaxVariables},
		{"aliases", c.aliases, MaxAliases},
		{"directives", c.directive, MaxDirectives},
		{"arguments", c.arguments, MaxArguments},
		{"fragment spreads", c.spreads, MaxSpreads},
	} {
		if over.n > over.limit {
			return tooComplex("the document has more than %d %s", over.limit, over.what)
		}
	}

	w := shapeWalker{doc: doc, fragments: map[string]shape{}}
	roots := make([]ast.SelectionSet, 0, len(doc.Operations)+len(doc.Fragments))
	for _, op := range doc.Operations {
		roots = append(roots, op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		roots = append(roots, f.SelectionSet) // validation walks each fragment on its own too
	}
	for _, root := range roots {
		sh := w.set(root)
		switch {
		case sh.depth > MaxDepth:
			return tooComplex("the operation is %d fields deep; the limit is %d", sh.depth, MaxDepth)
		case sh.fields > MaxFields:
			return tooComplex("the operation expands to more than %d fields", MaxFields)
		}
	}
	for _, root := range roots {
		if !sameResponseWithin(doc, root) {
			return tooComplex("more than %d fields share one response name once fragments are spread", MaxSameResponse)
		}
	}
	return nil
}

// counts are a document's selections as written, fragments not spread.
type counts struct{ variables, aliases, directive, arguments, spreads int }

func (c *counts) directives(list ast.DirectiveList) {
	c.directive += len(list)
	for _, d := range list {
		c.arguments += len(d.Arguments)
	}
}

func (c *counts) set(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				c.aliases++
			}
			c.arguments += len(s.Arguments)
			c.directives(s.Directives)
			c.set(s.SelectionSet)
		case *ast.InlineFragment:
			c.directives(s.Directives)
			c.set(s.SelectionSet)
		case *ast.FragmentSpread:
			c.spreads++
			c.directives(s.Directives)
		}
	}
}

// shape is the depth of a selection and the number of fields it expands to.
type shape struct{ depth, fields int }

type shapeWalker struct {
	doc       *ast.QueryDocument
	fragments map[string]shape // fragment name → its shape, computed once
}

// set returns the shape of a selection set; gqlgen's complexity walk expands every fragment spread anew, so a
// few fragments that each spread the next twice ("fragment bombs") would make it walk millions of fields.
// This walk computes each fragment's shape once. Counts stop growing past MaxFields, so they cannot overflow.
func (w *shapeWalker) set(set ast.SelectionSet) shape {
	var out shape
	add := func(sh shape) {
		out.depth = max(out.depth, sh.depth)
		out.fields = min(out.fields+sh.fields, MaxFields+1)
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
					w.fragments[s.Name] = shape{} // a cycle, which validation refuses, counts as empty
					sh = w.set(f.SelectionSet)
					w.fragments[s.Name] = sh
				}
			}
			add(sh)
		}
	}
	return out
}

// sameResponseWithin reports whether no more than MaxSameResponse fields share a response path in root once
// its fragments are spread. Fields merge by response path, so each path is a node of a trie. Run it after the
// shape check: the walk spreads fragments anew, and stops after a bounded number of steps (or on a cycle).
func sameResponseWithin(doc *ast.QueryDocument, root ast.SelectionSet) bool {
	type edge struct {
		parent int
		name   string
	}
	nodes := map[edge]int{}
	count := []int{0}
	steps := 0
	onPath := map[string]bool{}
	var walk func(parent int, set ast.SelectionSet) bool
	at := func(parent int, name string) (int, bool) {
		id, ok := nodes[edge{parent, name}]
		if !ok {
			id = len(count)
			nodes[edge{parent, name}] = id
			count = append(count, 0)
		}
		count[id]++
		return id, count[id] <= MaxSameResponse
	}
	walk = func(parent int, set ast.SelectionSet) bool {
		for _, sel := range set {
			if steps++; steps > 4*MaxFields+MaxSpreads {
				return false
			}
			switch s := sel.(type) {
			case *ast.Field:
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				id, ok := at(parent, name)
				if !ok || !walk(id, s.SelectionSet) {
					return false
				}
			case *ast.InlineFragment:
				if !walk(parent, s.SelectionSet) {
					return false
				}
			case *ast.FragmentSpread:
				// Each spread is compared with the others of its selection set, even of a fragment that
				// does not exist: it counts as a field of its own name too.
				if _, ok := at(parent, "..."+s.Name); !ok {
					return false
				}
				f := doc.Fragments.ForName(s.Name)
				if f == nil || onPath[s.Name] {
					continue
				}
				onPath[s.Name] = true
				ok := walk(parent, f.SelectionSet)
				onPath[s.Name] = false
				if !ok {
					return false
				}
			}
		}
		return true
	}
	return walk(0, root)
}

// cappedRules are gqlparser's validation rules, each reporting through one counter that drops errors past
// MaxErrors: a document can break a rule thousands of times, and each report allocates its message.
func cappedRules() *rules.Rules {
	all := rules.NewDefaultRules()
	reported := 0
	for name, rule := range all.GetInner() {
		all.ReplaceRule(name, func(observers *core.Events, addError core.AddErrFunc) {
			rule(observers, func(options ...core.ErrorOption) {
				if reported < MaxErrors {
					reported++
					addError(options...)
				}
			})
		})
	}
	return all
}

type textBudgetKey struct{}

// budgetText gives each response its budget of text; a subscription's events each get their own.
func budgetText(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	left := new(atomic.Int64)
	left.Store(MaxResponseText)
	return next(context.WithValue(ctx, textBudgetKey{}, left))
}

// limitText charges long strings to the response's budget, and answers null with QUERY_TOO_COMPLEX once it is
// spent.
func limitText(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	var n int
	switch s := res.(type) {
	case string:
		n = len(s)
	case *string:
		if s != nil {
			n = len(*s)
		}
	}
	if n < minText || ownExport(graphql.GetFieldContext(ctx)) {
		return res, err
	}
	if left, _ := ctx.Value(textBudgetKey{}).(*atomic.Int64); left != nil && left.Add(-int64(n)) < 0 {
		return nil, tooComplex("the response would hold more than %d MiB of text; ask for fewer items or fields", MaxResponseText>>20)
	}
	return res, err
}

// ownExport reports whether fc is a field of one of the reader's comments in exportMyData:
// exportMyData.comments[i].field, under the operation's own context, which has no field.
func ownExport(fc *graphql.FieldContext) bool {
	named := func(c *graphql.FieldContext, name string) bool {
		return c != nil && c.Field.Field != nil && c.Field.Name == name
	}
	if fc == nil || fc.Parent == nil || fc.Parent.Index == nil {
		return false
	}
	list := fc.Parent.Parent
	if !named(list, "comments") || !named(list.Parent, "exportMyData") {
		return false
	}
	top := list.Parent.Parent
	return top == nil || top.Field.Field == nil
}

// capErrors keeps the first MaxErrors errors of a response, and says how many more there were, so that no
// operation answers more errors than it may: a list of 100 IDs can fail 100 times. It cuts long messages.
func capErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	for _, e := range resp.Errors {
		if len(e.Message) > maxErrorMessage {
			e.Message = strings.ToValidUTF8(e.Message[:maxErrorMessage], "") + "…"
		}
	}
	if len(resp.Errors) <= MaxErrors {
		return resp
	}
	more := len(resp.Errors) - MaxErrors + 1
	last := resp.Errors[MaxErrors-1]
	code, _ := last.Extensions["code"].(string)
	resp.Errors = append(resp.Errors[:MaxErrors-1:MaxErrors-1], &gqlerror.Error{
		Message:    fmt.Sprintf("%d more errors were left out", more),
		Extensions: map[string]any{"code": code},
	})
	return resp
}
