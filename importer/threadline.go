package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/thread"
)

// readThreadline reads Threadline's own export (package archive) as a stream: one article's fields, then its
// comments one at a time.
func readThreadline(r io.Reader, s sink) error {
	dec := json.NewDecoder(r)
	notOurs := errors.New("this is not a Threadline export: it does not start with {\"format\": \"threadline\"")
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return notOurs
	}
	if key, err := dec.Token(); err != nil || key != "format" {
		return notOurs
	}
	var format string
	if err := dec.Decode(&format); err != nil || format != archive.FormatName {
		return notOurs
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return fmt.Errorf("the file is not well-formed JSON: %w", err)
		}
		switch key {
		case "version":
			var v int
			if err := dec.Decode(&v); err != nil || v != archive.Version {
				return fmt.Errorf("this Threadline export is version %d; this Threadline reads version %d", v, archive.Version)
			}
		case "site":
			var site archive.Site
			if err := dec.Decode(&site); err != nil {
				return fmt.Errorf("site: %w", err)
			}
			if err := s.site(site); err != nil {
				return err
			}
		case "articles":
			err = eachItem(dec, func() error { return readArticle(dec, s) })
		case "appeals":
			err = eachItem(dec, func() error {
				var a archive.Appeal
				if err := dec.Decode(&a); err != nil {
					return err
				}
				s.appeal(thread.ImportAppeal{SourceID: a.Comment, CommentID: a.Comment, Text: a.Text, At: a.CreatedAt})
				return nil
			})
		case "moderation":
			err = eachItem(dec, func() error {
				var a archive.Action
				if err := dec.Decode(&a); err != nil {
					return err
				}
				s.action(thread.ImportAction{SourceID: archive.ActionID(&a), ArticleKey: a.Article, CommentID: a.Comment,
					Kind: thread.ActionKind(a.Action), BySystem: a.By == "system", Rule: a.Rule, Note: a.Note,
					Decision: thread.Decision(a.Decision), Until: deref(a.Until), At: a.At})
				return nil
			})
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return fmt.Errorf("%v: %w", key, err)
		}
	}
	return nil
}

// eachItem calls fn for each element of the array that comes next.
func eachItem(dec *json.Decoder, fn func() error) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return errors.New("want an array")
	}
	for dec.More() {
		if err := fn(); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// readArticle reads an article's fields, then streams its comments.
func readArticle(dec *json.Decoder, s sink) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("an article is not an object")
	}
	fields := map[string]json.RawMessage{}
	var a archive.Article
	started := false
	start := func() error {
		if started {
			return nil
		}
		started = true
		b, _ := json.Marshal(fields)
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		s.thread(thread.ImportThread{SourceID: a.Key, Key: a.Key, Title: a.Title, URL: a.URL, CreatedAt: a.CreatedAt,
			Standfirst: a.Standfirst, Body: a.Body, Locked: a.Locked})
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := key.(string)
		if name != "comments" {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return err
			}
			fields[name] = v
			continue
		}
		if err := start(); err != nil {
			return err
		}
		err = eachItem(dec, func() error {
			var c archive.Comment
			if err := dec.Decode(&c); err != nil {
				return err
			}
			return s.post(thread.ImportPost{SourceID: c.ID, ThreadID: a.Key, ParentID: c.Parent, Author: c.Author, Body: c.Body,
				Status: thread.Status(c.Status), Rule: c.Rule, Note: c.Note, Likes: c.Likes, CreatedAt: c.CreatedAt,
				EditedAt: deref(c.EditedAt), ModeratedAt: deref(c.ModeratedAt)})
		})
		if err != nil {
			return err
		}
	}
	if err := start(); err != nil { // an article without comments
		return err
	}
	_, err := dec.Token()
	return err
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
