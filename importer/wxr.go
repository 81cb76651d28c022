package importer

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/threadline/threadline/thread"
)

// wxrComment leaves out the author's e-mail and IP address, which the file has: they are never read.
type wxrComment struct {
	ID       string `xml:"comment_id"`
	Author   string `xml:"comment_author"`
	DateGMT  string `xml:"comment_date_gmt"`
	Content  string `xml:"comment_content"`
	Approved string `xml:"comment_approved"`
	Type     string `xml:"comment_type"`
	Parent   string `xml:"comment_parent"`
}

// readWXR reads a WordPress export (WXR): <rss> with <channel><item> elements, each a post with its
// <wp:comment> elements.
func readWXR(r io.Reader, s sink) error {
	dec := xml.NewDecoder(r)
	root, err := rootElement(dec)
	if err != nil {
		return err
	}
	if root.Name.Local != "rss" || !declaresWordPress(root) {
		return fmt.Errorf("this is not a WordPress export (WXR): its root element is <%s> without the wp namespace", root.Name.Local)
	}
	var item *thread.ImportThread // the post being read, once its identity is known
	var postID, postName string
	var title, link, date string
	begin := func() {
		if item == nil {
			key := postName
			if key == "" {
				key = postID
			}
			created, _ := parseTime(date)
			item = &thread.ImportThread{SourceID: postID, Key: key, Title: title, URL: link, CreatedAt: created}
			s.thread(*item)
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the file is not well-formed XML: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			var text string
			switch el.Name.Local {
			case "item":
				item, postID, postName, title, link, date = nil, "", "", "", "", ""
				continue
			case "comment":
				if postID == "" {
					s.skip("a comment", "it comes before its post's wp:post_id")
					_ = dec.Skip()
					continue
				}
				begin()
				var c wxrComment
				if err := dec.DecodeElement(&c, &el); err != nil {
					return fmt.Errorf("comment: %w", err)
				}
				if err := wxrPost(c, postID, s); err != nil {
					return err
				}
				continue
			case "title", "link", "post_id", "post_name", "post_date_gmt":
				if err := dec.DecodeElement(&text, &el); err != nil {
					return err
				}
			default:
				continue
			}
			text = strings.TrimSpace(text)
			switch el.Name.Local {
			case "title":
				title = text
			case "link":
				link = text
			case "post_id":
				postID = text
			case "post_name":
				postName = text
			case "post_date_gmt":
				date = text
			}
		case xml.EndElement:
			if el.Name.Local == "item" && postID != "" {
				begin() // a post without comments still becomes an article
			}
		}
	}
}

func wxrPost(c wxrComment, postID string, s sink) error {
	item := "comment " + c.ID
	if t := strings.TrimSpace(c.Type); t == "pingback" || t == "trackback" {
		s.skip(item, "a "+t+", not a comment")
		return nil
	}
	created, ok := parseTime(strings.TrimSpace(c.DateGMT))
	if !ok {
		s.skip(item, fmt.Sprintf("its time %q is not a time", c.DateGMT))
		return nil
	}
	p := thread.ImportPost{SourceID: strings.TrimSpace(c.ID), ThreadID: postID, Author: strings.TrimSpace(c.Author),
		Body: c.Content, CreatedAt: created}
	if parent := strings.TrimSpace(c.Parent); parent != "" && parent != "0" {
		p.ParentID = parent
	}
	switch strings.TrimSpace(c.Approved) {
	case "1":
	case "0":
		p.Status = thread.StatusPending
	case "spam":
		p.Status, p.Rule = thread.StatusRemoved, RuleSpam
	case "trash":
		p.Status, p.Rule = thread.StatusRemoved, RuleDeleted
	default:
		s.skip(item, fmt.Sprintf("its state %q is not one WordPress writes", c.Approved))
		return nil
	}
	return s.post(p)
}

// declaresWordPress reports whether the root element declares WordPress's export namespace.
func declaresWordPress(root xml.StartElement) bool {
	for _, a := range root.Attr {
		if strings.Contains(a.Value, "wordpress.org/export") {
			return true
		}
	}
	return false
}
