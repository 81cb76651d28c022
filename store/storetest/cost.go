package storetest

import (
	"testing"

	"github.com/threadline/threadline/thread"
)

// testPagesCostConstantStatements reads a thread's first view as the Service does (a page of top-level
// comments, their first replies, the replies' first replies, the authors, the viewer's likes) and proves a
// page of 50 costs the store as many statements as a page of 5: no statement per comment.
func testPagesCostConstantStatements(t *testing.T, s Store) {
	f := newFixture(t, s)
	readers := []*thread.Reader{f.reader(t, "R0"), f.reader(t, "R1"), f.reader(t, "R2")}
	for i := range 50 {
		c := f.comment(t, 0, readers[i%3].ID, i)
		for j, r := range readers {
			reply := f.comment(t, c.ID, r.ID, 100+i)
			f.comment(t, reply.ID, readers[(j+1)%3].ID, 200+i)
		}
		_, err := s.Like(ctx, c.ID, readers[0].ID)
		must(t, err)
	}
	view := func(n int) int64 {
		t.Helper()
		start := s.QueryCount()
		page, err := s.TopLevelComments(ctx, f.article.ID, thread.PageRequest{Order: thread.OrderNewest, First: n})
		must(t, err)
		page = page[:min(n, len(page))]
		replies, err := s.Replies(ctx, ids(page), thread.PageRequest{Order: thread.OrderOldest, First: 3})
		must(t, err)
		var level []*thread.Comment
		for _, c := range page {
			level = append(level, replies[c.ID]...)
		}
		deeper, err := s.Replies(ctx, ids(level), thread.PageRequest{Order: thread.OrderOldest, First: 3})
		must(t, err)
		all := append(append([]*thread.Comment{}, page...), level...)
		for _, list := range deeper {
			all = append(all, list...)
		}
		authors := map[int64]bool{}
		var authorIDs []int64
		for _, c := range all {
			if !authors[c.AuthorID] {
				authors[c.AuthorID] = true
				authorIDs = append(authorIDs, c.AuthorID)
			}
		}
		_, err = s.ReadersByID(ctx, authorIDs)
		must(t, err)
		_, err = s.Liked(ctx, readers[0].ID, ids(all))
		must(t, err)
		if len(page) != n || len(level) != 3*n || len(all) != 7*n {
			t.Fatalf("page of %d: %d comments, %d replies, %d in all; want %d, %d, %d", n, len(page), len(level), len(all), n, 3*n, 7*n)
		}
		return s.QueryCount() - start
	}
	small, large := view(5), view(50)
	t.Logf("statements: page of 5: %d, page of 50: %d", small, large)
	if small != large {
		t.Errorf("a page of 50 cost %d statements and a page of 5 cost %d: the cost grows with the page", large, small)
	}
}
