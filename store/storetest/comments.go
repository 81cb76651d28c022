package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/threadline/threadline/thread"
)

// testComments: AddComment sets ID and depth and counts the comment on its parent and article; an edit
// changes the body and the edit time only.
func testComments(t *testing.T, s Store) {
	f := newFixture(t, s)
	ann := f.reader(t, "Ann")
	root := f.comment(t, 0, ann.ID, 1)
	reply := f.comment(t, root.ID, 0, 2)
	nested := f.comment(t, reply.ID, ann.ID, 3)
	for _, tc := range []struct {
		c            *thread.Comment
		depth, count int
	}{{root, 0, 1}, {reply, 1, 1}, {nested, 2, 0}} {
		got := f.get(t, tc.c.ID)
		if got == nil || tc.c.Depth != tc.depth || got.Depth != tc.depth || got.ReplyCount != tc.count {
			t.Errorf("comment %d: %+v; want depth %d, %d replies", tc.c.ID, got, tc.depth, tc.count)
		}
	}
	f.wantCounts(t, 3, 1)
	// A pending comment (premoderation) counts nowhere until it is published.
	f.commentIn(t, f.article, root.ID, ann.ID, thread.StatusPending, 4)
	f.wantCounts(t, 3, 1)
	if got := f.get(t, root.ID); got.ReplyCount != 1 {
		t.Errorf("a pending reply was counted: root has %d replies, want 1", got.ReplyCount)
	}

	got := f.get(t, nested.ID)
	if got.ArticleID != f.article.ID || got.ParentID != reply.ID || got.AuthorID != ann.ID || got.Body != nested.Body ||
		got.BodyHTML != nested.BodyHTML || got.Status != thread.StatusPublished || !got.CreatedAt.Equal(at(3)) || !got.EditedAt.IsZero() {
		t.Errorf("CommentsByID read back %+v, want %+v", got, nested)
	}
	edited, err := s.EditComment(ctx, nested.ID, "new", "<p>new</p>", at(10))
	must(t, err)
	if edited.Body != "new" || edited.BodyHTML != "<p>new</p>" || !edited.EditedAt.Equal(at(10)) || !edited.CreatedAt.Equal(at(3)) {
		t.Errorf("EditComment returned %+v", edited)
	}
	if got := f.get(t, nested.ID); got.Body != "new" || !got.EditedAt.Equal(at(10)) {
		t.Errorf("after EditComment: %+v", got)
	}
	all, err := s.CommentsByID(ctx, []int64{root.ID, reply.ID, nested.ID + 1000})
	must(t, err)
	if len(all) != 2 {
		t.Errorf("CommentsByID: %d comments, want 2 (the missing left out)", len(all))
	}
}

func testCommentErrors(t *testing.T, s Store) {
	f := newFixture(t, s)
	other := f.mustArticle(t, "other")
	onOther := f.commentIn(t, other, 0, 0, thread.StatusPublished, 1)
	for _, tc := range []struct {
		name   string
		parent int64
		code   thread.Code
	}{
		{"a reply to a missing comment", onOther.ID + 1000, thread.CodeNotFound},
		{"a reply to a comment of another article", onOther.ID, thread.CodeInvalid},
	} {
		c := &thread.Comment{ArticleID: f.article.ID, ParentID: tc.parent, Body: "b", BodyHTML: "<p>b</p>", Status: thread.StatusPublished, CreatedAt: t0}
		wantCode(t, tc.name, s.AddComment(ctx, c), tc.code)
	}
	f.wantCounts(t, 0, 0)
	_, err := s.EditComment(ctx, onOther.ID+1000, "b", "<p>b</p>", t0)
	wantCode(t, "EditComment of a missing comment", err, thread.CodeNotFound)
	_, err = s.DeleteComment(ctx, onOther.ID+1000)
	wantCode(t, "DeleteComment of a missing comment", err, thread.CodeNotFound)
	for _, status := range []thread.Status{thread.StatusPending, thread.StatusRemoved} {
		c := f.commentIn(t, f.article, 0, 0, status, 2)
		_, err := s.DeleteComment(ctx, c.ID)
		wantCode(t, fmt.Sprintf("DeleteComment of a %s comment", status), err, thread.CodeConflict)
	}
}

// before reports whether a comes before b in o.
func before(o thread.Order, a, b *thread.Comment) bool {
	ta, tb := a.CreatedAt.UnixMilli(), b.CreatedAt.UnixMilli()
	switch o {
	case thread.OrderTop:
		if a.LikeCount != b.LikeCount {
			return a.LikeCount > b.LikeCount
		}
		return ta < tb || ta == tb && a.ID < b.ID
	case thread.OrderNewest:
		return ta > tb || ta == tb && a.ID > b.ID
	}
	return ta < tb || ta == tb && a.ID < b.ID
}

// sorted returns the comments in o.
func sorted(o thread.Order, list []*thread.Comment) []int64 {
	list = slices.Clone(list)
	slices.SortFunc(list, func(a, b *thread.Comment) int {
		if before(o, a, b) {
			return -1
		}
		return 1
	})
	return ids(list)
}

// testKeysetPages walks the top-level comments in every order, page by page, with ties in time and likes that
// only the ID breaks, and pending comments that no page may show.
func testKeysetPages(t *testing.T, s Store) {
	f := newFixture(t, s)
	var listed []*thread.Comment
	for i := range 23 {
		listed = append(listed, f.comment(t, 0, 0, i/3))
	}
	f.commentIn(t, f.article, 0, 0, thread.StatusPending, 1)
	for i, c := range listed {
		for range i % 4 {
			liked, err := s.Like(ctx, c.ID, f.reader(t, "r").ID)
			must(t, err)
			c.LikeCount = liked.LikeCount
		}
	}
	for _, o := range []thread.Order{thread.OrderTop, thread.OrderNewest, thread.OrderOldest} {
		for _, size := range []int{1, 5, 23, 100} {
			t.Run(fmt.Sprintf("%v by %d", o, size), func(t *testing.T) {
				var got []int64
				var after *thread.Key
				for pages := 0; ; pages++ {
					if pages > len(listed) {
						t.Fatal("more pages than comments")
					}
					list, err := s.TopLevelComments(ctx, f.article.ID, thread.PageRequest{Order: o, First: size, After: after})
					must(t, err)
					if len(list) > size+1 {
						t.Fatalf("asked for %d (and one to tell a next page), got %d", size, len(list))
					}
					page := list[:min(size, len(list))]
					got = append(got, ids(page)...)
					if len(list) <= size {
						break
					}
					k := thread.KeyOf(page[len(page)-1])
					after = &k
				}
				if want := sorted(o, listed); !slices.Equal(got, want) {
					t.Errorf("pages listed %v, want %v", got, want)
				}
			})
		}
	}
}

// testReplyPages pages through the replies of several parents at once, oldest first, each parent on its own.
func testReplyPages(t *testing.T, s Store) {
	f := newFixture(t, s)
	parents := []*thread.Comment{f.comment(t, 0, 0, 0), f.comment(t, 0, 0, 0), f.comment(t, 0, 0, 0)}
	want := map[int64][]int64{}
	for i, p := range parents {
		for j := range 3 * i { // 0, 3 and 6 replies, with ties in time
			want[p.ID] = append(want[p.ID], f.comment(t, p.ID, 0, 1+j/2).ID)
		}
		f.commentIn(t, f.article, p.ID, 0, thread.StatusPending, 1)
	}
	// The first page of every parent at once, as a thread's first view asks for it.
	first, err := s.Replies(ctx, ids(parents), thread.PageRequest{Order: thread.OrderOldest, First: 2})
	must(t, err)
	for _, p := range parents {
		if got, want := ids(first[p.ID]), want[p.ID][:min(3, len(want[p.ID]))]; !slices.Equal(got, want) {
			t.Errorf("first page of the replies of %d: %v, want %v (two and one to tell a next page)", p.ID, got, want)
		}
	}
	// Then each parent's replies page by page.
	for _, p := range parents {
		var got []int64
		var after *thread.Key
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("more pages than replies")
			}
			lists, err := s.Replies(ctx, []int64{p.ID}, thread.PageRequest{Order: thread.OrderOldest, First: 2, After: after})
			must(t, err)
			list := lists[p.ID]
			page := list[:min(2, len(list))]
			got = append(got, ids(page)...)
			if len(list) <= 2 {
				break
			}
			k := thread.KeyOf(page[len(page)-1])
			after = &k
		}
		if !slices.Equal(got, want[p.ID]) {
			t.Errorf("replies of %d: %v, want %v", p.ID, got, want[p.ID])
		}
	}
	none, err := s.Replies(ctx, nil, thread.PageRequest{First: 2})
	if err != nil || len(none) != 0 {
		t.Errorf("Replies of no parents: %v, %v", none, err)
	}
}

// testDeletionPlaceholders: a deleted comment with replies stays as a placeholder; deleting the last reply
// under placeholders removes them too; counts follow.
func testDeletionPlaceholders(t *testing.T, s Store) {
	f := newFixture(t, s)
	ann := f.reader(t, "Ann")
	root := f.comment(t, 0, ann.ID, 0)
	child := f.comment(t, root.ID, ann.ID, 1)
	grandchild := f.comment(t, child.ID, ann.ID, 2)
	_, err := s.Like(ctx, root.ID, f.reader(t, "Bob").ID)
	must(t, err)
	f.wantCounts(t, 3, 1)

	for _, c := range []*thread.Comment{root, child} {
		p, err := s.DeleteComment(ctx, c.ID)
		must(t, err)
		if p == nil || p.ID != c.ID || p.Status != thread.StatusDeleted || p.Body != "" || p.BodyHTML != "" || p.AuthorID != 0 || p.LikeCount != 0 {
			t.Fatalf("placeholder of %d: %+v", c.ID, p)
		}
	}
	f.wantCounts(t, 1, 1)
	list, err := s.TopLevelComments(ctx, f.article.ID, thread.PageRequest{Order: thread.OrderOldest, First: 10})
	must(t, err)
	if !slices.Equal(ids(list), []int64{root.ID}) {
		t.Errorf("a placeholder with replies is not listed: %v", ids(list))
	}

	p, err := s.DeleteComment(ctx, grandchild.ID)
	if err != nil || p != nil {
		t.Fatalf("delete the last reply: %+v, %v; want no placeholder", p, err)
	}
	left, err := s.CommentsByID(ctx, []int64{root.ID, child.ID, grandchild.ID})
	if err != nil || len(left) != 0 {
		t.Fatalf("rows left: %v, %v", left, err)
	}
	f.wantCounts(t, 0, 0)
}

func testLikes(t *testing.T, s Store) {
	f := newFixture(t, s)
	c, other := f.comment(t, 0, 0, 0), f.comment(t, 0, 0, 1)
	ann, bob := f.reader(t, "Ann"), f.reader(t, "Bob")
	for i, step := range []struct {
		like   bool
		reader *thread.Reader
		want   int
	}{
		{true, ann, 1}, {true, ann, 1}, {true, bob, 2}, {false, ann, 1}, {false, ann, 1}, {true, ann, 2}, {false, bob, 1},
	} {
		change := s.Unlike
		if step.like {
			change = s.Like
		}
		got, err := change(ctx, c.ID, step.reader.ID)
		if err != nil || got.ID != c.ID || got.LikeCount != step.want {
			t.Fatalf("step %d: %+v, %v; want %d likes", i, got, err, step.want)
		}
	}
	if got := f.get(t, c.ID); got.LikeCount != 1 {
		t.Errorf("stored like count %d, want 1", got.LikeCount)
	}
	liked, err := s.Liked(ctx, ann.ID, []int64{c.ID, other.ID})
	if err != nil || !liked[c.ID] || liked[other.ID] {
		t.Errorf("Liked: %v, %v; want only %d", liked, err, c.ID)
	}
	if liked, err := s.Liked(ctx, ann.ID, nil); err != nil || len(liked) != 0 {
		t.Errorf("Liked of no comments: %v, %v", liked, err)
	}
	if _, err := s.Like(ctx, other.ID+1000, ann.ID); err == nil {
		t.Error("liking a missing comment succeeded")
	}
	if _, err := s.Unlike(ctx, other.ID+1000, ann.ID); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Errorf("unliking a missing comment: %v, want NOT_FOUND", err)
	}
}
