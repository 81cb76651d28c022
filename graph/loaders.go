package graph

import (
	"context"
	"errors"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/threadline/threadline/thread"
)

// Loaders batch and cache, for one request, the lookups that field resolvers make one object at a time.
type Loaders struct {
	sites    *dataloadgen.Loader[int64, *thread.Site]
	articles *dataloadgen.Loader[int64, *thread.Article]
	comments *dataloadgen.Loader[int64, *thread.Comment]
	readers  *dataloadgen.Loader[int64, *thread.Reader]
	liked    *dataloadgen.Loader[int64, bool]
	replies  *dataloadgen.Loader[repliesKey, *thread.Page]
	// appeals and reportRules serve the moderation of comments, for their authors and moderators.
	appeals     *dataloadgen.Loader[int64, *thread.Appeal]
	reportRules *dataloadgen.Loader[int64, []thread.RuleCount]
}

// repliesKey identifies one page of a comment's replies.
type repliesKey struct {
	parent int64
	first  int
	after  string
}

// batchWait is how long a loader waits to gather keys before it queries. Pages prime the loaders with what
// their comments need (see prefetch), so a wait happens only for lookups outside a page, such as node(id:).
const batchWait = 500 * time.Microsecond

type loadersKey struct{}

// WithLoaders returns a context carrying fresh loaders over svc, for one request.
func WithLoaders(ctx context.Context, svc *thread.Service) context.Context {
	opts := []dataloadgen.Option{dataloadgen.WithWait(batchWait), dataloadgen.WithBatchCapacity(thread.MaxPageSize)}
	l := &Loaders{
		sites:    dataloadgen.NewMappedLoader(svc.Sites, opts...),
		articles: dataloadgen.NewMappedLoader(svc.Articles, opts...),
		comments: dataloadgen.NewMappedLoader(svc.Comments, opts...),
		readers:  dataloadgen.NewMappedLoader(svc.Readers, opts...),
		liked: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int64) (map[int64]bool, error) {
			liked, err := svc.LikedByViewer(ctx, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				if _, ok := liked[id]; !ok {
					liked[id] = false // every key has an answer: not liked is one
				}
			}
			return liked, nil
		}, opts...),
		replies: dataloadgen.NewMappedLoader(func(ctx context.Context, keys []repliesKey) (map[repliesKey]*thread.Page, error) {
			return loadReplies(ctx, svc, keys)
		}, opts...),
		appeals:     dataloadgen.NewMappedLoader(svc.Appeals, opts...),
		reportRules: dataloadgen.NewMappedLoader(svc.ReportRules, opts...),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

// forget empties every cache after a write, so that what the request reads next (a later field of the same
// mutation, or the next mutation of the document) sees the write.
func (l *Loaders) forget() {
	l.sites.ClearAll()
	l.articles.ClearAll()
	l.comments.ClearAll()
	l.readers.ClearAll()
	l.liked.ClearAll()
	l.replies.ClearAll()
	l.appeals.ClearAll()
	l.reportRules.ClearAll()
}

func loadersFor(ctx context.Context) *Loaders {
	l, ok := ctx.Value(loadersKey{}).(*Loaders)
	if !ok {
		panic("graph: no loaders in the context; wrap the handler with WithLoaders")
	}
	return l
}

// loadReplies fetches reply pages, one query per distinct (first, after) among the keys: in practice one, as
// every comment of a page asks for the same first page of replies.
func loadReplies(ctx context.Context, svc *thread.Service, keys []repliesKey) (map[repliesKey]*thread.Page, error) {
	type group struct {
		first int
		after string
	}
	parents := map[group][]int64{}
	for _, k := range keys {
		g := group{k.first, k.after}
		parents[g] = append(parents[g], k.parent)
	}
	out := make(map[repliesKey]*thread.Page, len(keys))
	for g, ids := range parents {
		req, err := pageRequest(thread.OrderOldest, &g.first, optional(g.after))
		if err != nil {
			return nil, err
		}
		pages, err := svc.Replies(ctx, ids, req)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[repliesKey{id, g.first, g.after}] = pages[id]
		}
	}
	return out, nil
}

// load returns the value for key, or the zero value when there is none.
func load[K comparable, V any](ctx context.Context, l *dataloadgen.Loader[K, V], key K) (V, error) {
	v, err := l.Load(ctx, key)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return v, nil
	}
	return v, err
}
