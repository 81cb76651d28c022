package archive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/threadline/threadline/thread"
)

// writer streams a file: the sections come in order, each an array opened on its first item.
type writer struct {
	out     *bufio.Writer
	err     error
	section string // the array being written: "articles", "appeals" or "moderation"
	first   bool   // the next item is its array's first
	inner   bool   // an article's comments array is open
	firstC  bool   // the next comment is its article's first
	ids     map[int64]string
	used    map[string]bool
	article string // the key of the article being written
}

func (w *writer) raw(s string) {
	if w.err == nil {
		_, w.err = w.out.WriteString(s)
	}
}

func (w *writer) value(v any) {
	if w.err != nil {
		return
	}
	b, err := marshal(v)
	if err != nil {
		w.err = err
		return
	}
	_, w.err = w.out.Write(b)
}

// marshal writes v as JSON with &, < and > as they are: the file is data, not HTML, and people read it.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// item starts the next item of section, closing what came before.
func (w *writer) item(section string) {
	w.closeArticle()
	if w.section != section {
		if w.section != "" {
			w.raw("\n]")
		}
		w.raw(",\n\"" + section + "\": [")
		w.section, w.first = section, true
	}
	if !w.first {
		w.raw(",")
	}
	w.raw("\n")
	w.first = false
}

func (w *writer) closeArticle() {
	if w.inner {
		w.raw("\n ]}")
		w.inner = false
	}
}

// Write writes a site's discussions (one article's, when articleKey is set) to out, streaming them.
func Write(ctx context.Context, svc *thread.Service, siteSlug, articleKey string, out io.Writer) error {
	site, err := svc.Site(ctx, siteSlug)
	if err != nil {
		return err
	}
	w := &writer{out: bufio.NewWriterSize(out, 64<<10), ids: map[int64]string{}, used: map[string]bool{}}
	w.raw(`{"format": "` + FormatName + `", "version": ` + strconv.Itoa(Version) + `,` + "\n\"site\": ")
	w.value(Site{Slug: site.Slug, Name: site.Name, Origins: nonNil(site.FrameAncestors), Premoderation: site.Premoderation,
		EditWindowSeconds: int(site.EditWindow / time.Second), Rules: nonNil(site.Rules), ReportThreshold: site.ReportThreshold})
	_, err = svc.Export(ctx, siteSlug, articleKey, thread.ExportVisitor{
		Article: func(a *thread.Article) error {
			w.item("articles")
			b, err := marshal(Article{Key: a.Key, URL: a.URL, Title: a.Title, Standfirst: a.Standfirst, Body: a.Body, Locked: a.Locked, CreatedAt: a.CreatedAt})
			if err != nil {
				return err
			}
			w.raw(" " + string(b[:len(b)-1]) + `, "comments": [`) // the article object stays open for its comments
			w.inner, w.article, w.firstC = true, a.Key, true
			return w.err
		},
		Comment: func(c *thread.Comment, author string) error {
			ac := Comment{Parent: w.ids[c.ParentID], Author: author, Body: c.Body, Status: string(c.Status), Rule: c.Rule, Note: c.Note,
				Likes: c.LikeCount, CreatedAt: c.CreatedAt, EditedAt: optionalTime(c.EditedAt), ModeratedAt: optionalTime(c.ModeratedAt)}
			ac.ID = commentID(w.article, ac.Parent, &ac)
			for n := 2; w.used[ac.ID]; n++ { // comments alike in every way
				ac.ID = commentID(w.article, ac.Parent, &ac) + "-" + strconv.Itoa(n)
			}
			w.ids[c.ID], w.used[ac.ID] = ac.ID, true
			if !w.firstC {
				w.raw(",")
			}
			w.raw("\n  ")
			w.firstC = false
			w.value(ac)
			return w.err
		},
		Appeal: func(a *thread.Appeal) error {
			w.item("appeals")
			w.value(Appeal{Comment: w.ids[a.CommentID], Text: a.Text, CreatedAt: a.At})
			return w.err
		},
		Action: func(a *thread.ModerationAction, key string) error {
			w.item("moderation")
			by := "moderator"
			if a.BySystem {
				by = "system"
			}
			w.value(Action{Action: string(a.Kind), Article: key, Comment: w.ids[a.CommentID], By: by, Rule: a.Rule, Note: a.Note,
				Decision: string(a.Decision), Until: optionalTime(a.Until), At: a.At})
			return w.err
		},
	})
	if err != nil {
		return err
	}
	w.closeArticle()
	if w.section != "" {
		w.raw("\n]")
	}
	w.raw("\n}\n")
	if w.err != nil {
		return w.err
	}
	return w.out.Flush()
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
