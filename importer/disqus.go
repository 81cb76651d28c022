package importer

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/threadline/threadline/thread"
)

type disqusRef struct {
	ID string `xml:"http://disqus.com/disqus-internals id,attr"`
}

type disqusThread struct {
	DsqID     string `xml:"http://disqus.com/disqus-internals id,attr"`
	ID        string `xml:"id"`
	Link      string `xml:"link"`
	Title     string `xml:"title"`
	CreatedAt string `xml:"createdAt"`
}

// disqusPost leaves out the author's e-mail and the poster's IP address, which the file has: they are never read.
type disqusPost struct {
	DsqID     string `xml:"http://disqus.com/disqus-internals id,attr"`
	Message   string `xml:"message"`
	CreatedAt string `xml:"createdAt"`
	IsDeleted bool   `xml:"isDeleted"`
	IsSpam    bool   `xml:"isSpam"`
	Author    struct {
		Name        string `xml:"name"`
		IsAnonymous bool   `xml:"isAnonymous"`
	} `xml:"author"`
	Thread disqusRef  `xml:"thread"`
	Parent *disqusRef `xml:"parent"`
}

// readDisqus reads a Disqus XML export: <disqus> with its <thread> elements, then its <post> elements.
func readDisqus(r io.Reader, s sink) error {
	dec := xml.NewDecoder(r)
	root, err := rootElement(dec)
	if err != nil {
		return err
	}
	if root.Name.Local != "disqus" {
		return fmt.Errorf("this is not a Disqus export: its root element is <%s>, not <disqus>", root.Name.Local)
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the file is not well-formed XML: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch start.Name.Local {
		case "thread":
			var t disqusThread
			if err := dec.DecodeElement(&t, &start); err != nil {
				return fmt.Errorf("thread: %w", err)
			}
			key := strings.TrimSpace(t.ID)
			if key == "" {
				key = strings.TrimSpace(t.Link)
			}
			created, _ := parseTime(strings.TrimSpace(t.CreatedAt))
			s.thread(thread.ImportThread{SourceID: t.DsqID, Key: key, Title: t.Title, URL: strings.TrimSpace(t.Link), CreatedAt: created})
		case "post":
			var p disqusPost
			if err := dec.DecodeElement(&p, &start); err != nil {
				return fmt.Errorf("post: %w", err)
			}
			created, ok := parseTime(strings.TrimSpace(p.CreatedAt))
			if !ok {
				s.skip("post "+p.DsqID, fmt.Sprintf("its time %q is not a time", p.CreatedAt))
				continue
			}
			post := thread.ImportPost{SourceID: p.DsqID, ThreadID: p.Thread.ID, Body: p.Message, CreatedAt: created}
			if p.Parent != nil {
				post.ParentID = p.Parent.ID
			}
			if !p.Author.IsAnonymous {
				post.Author = strings.TrimSpace(p.Author.Name)
			}
			switch {
			case p.IsSpam:
				post.Status, post.Rule = thread.StatusRemoved, RuleSpam
			case p.IsDeleted:
				post.Status, post.Rule = thread.StatusRemoved, RuleDeleted
			}
			if err := s.post(post); err != nil {
				return err
			}
		}
	}
}

// The rules imported spam and deleted comments are removed under.
const (
	RuleSpam    = "imported as spam"
	RuleDeleted = "deleted before the import"
)

// rootElement returns the document's first element.
func rootElement(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("the file is not XML: %w", err)
		}
		if start, ok := tok.(xml.StartElement); ok {
			return start, nil
		}
	}
}
