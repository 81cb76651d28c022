package threadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/thread"
)

// WriteThreadline writes, as Threadline's own export (package archive), the thread Generate creates: site Site
// with article Article, topLevel comments each with replies replies, the same authors, bodies and times. It is
// what `threadline import --format threadline` reads, so that the benchmarks seed any database, SQLite or
// PostgreSQL, through the command an operator runs.
func WriteThreadline(w io.Writer, topLevel, replies int) error {
	out := bufio.NewWriterSize(w, 64<<10)
	head, err := json.Marshal(map[string]any{
		"site": archive.Site{Slug: Site, Name: "Benchmarks", Origins: []string{"*"}, Rules: thread.DefaultRules,
			ReportThreshold: thread.DefaultReportThreshold},
		"article": archive.Article{Key: Article, Title: "Generated", CreatedAt: generatedEpoch},
	})
	if err != nil {
		return err
	}
	var parts struct{ Site, Article json.RawMessage }
	if err := json.Unmarshal(head, &parts); err != nil {
		return err
	}
	// The article's fields, then its comments: the importer streams them one at a time.
	fmt.Fprintf(out, `{"format":%q,"version":%d,"site":%s,"articles":[%s,"comments":[`,
		archive.FormatName, archive.Version, parts.Site, parts.Article[:len(parts.Article)-1])
	n := 0
	comment := func(parent string, author int) (string, error) {
		c := archive.Comment{ID: fmt.Sprintf("g%d", n), Parent: parent, Author: fmt.Sprintf("Author %d", author%50), Body: Body,
			Status: "published", CreatedAt: generatedEpoch.Add(time.Duration(n) * time.Second)}
		b, err := json.Marshal(c)
		if err != nil {
			return "", err
		}
		if n > 0 {
			out.WriteByte(',')
		}
		out.Write(b)
		out.WriteByte('\n')
		n++
		return c.ID, nil
	}
	for i := range topLevel {
		id, err := comment("", i)
		if err != nil {
			return err
		}
		for j := range replies {
			if _, err := comment(id, i+j+1); err != nil {
				return err
			}
		}
	}
	fmt.Fprint(out, "]}],\"appeals\":[],\"moderation\":[]}\n")
	return out.Flush()
}

// generatedEpoch is when the generated thread starts, as in Generate.
var generatedEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
