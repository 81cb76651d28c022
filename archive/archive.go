// Package archive is Threadline's own JSON format for a site's discussions: what `threadline export` writes
// and `threadline import --format threadline` reads back. It holds the site's settings (never its secret or
// keys), every article and comment with its like count and what moderators did to it, the appeals and the
// moderation log. Readers appear by their display names only.
//
// The file is one JSON object:
//
//	{"format": "threadline", "version": 1, "site": {…},
//	 "articles": [{…, "comments": [{…}, …]}, …], "appeals": [{…}, …], "moderation": [{…}, …]}
//
// Comments come parents first, then oldest first, and name each other by IDs made from their content, so that
// an export of an imported export is the same file, byte for byte.
package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// FormatName and Version identify the format in every file.
const (
	FormatName = "threadline"
	Version    = 1
)

// Site is a site's settings.
type Site struct {
	Slug              string   `json:"slug"`
	Name              string   `json:"name"`
	Origins           []string `json:"origins"`
	Premoderation     bool     `json:"premoderation"`
	EditWindowSeconds int      `json:"editWindowSeconds"`
	Rules             []string `json:"rules"`
	ReportThreshold   int      `json:"reportThreshold"`
}

// Article is an article; in a file its comments follow its other fields.
type Article struct {
	Key        string    `json:"key"`
	URL        string    `json:"url"`
	Title      string    `json:"title"`
	Standfirst string    `json:"standfirst"`
	Body       string    `json:"body"`
	Locked     bool      `json:"locked"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Comment is a comment.
type Comment struct {
	ID          string     `json:"id"`
	Parent      string     `json:"parent,omitempty"`
	Author      string     `json:"author,omitempty"`
	Body        string     `json:"body"`
	Status      string     `json:"status"`
	Rule        string     `json:"rule,omitempty"`
	Note        string     `json:"note,omitempty"`
	Likes       int        `json:"likes"`
	CreatedAt   time.Time  `json:"createdAt"`
	EditedAt    *time.Time `json:"editedAt,omitempty"`
	ModeratedAt *time.Time `json:"moderatedAt,omitempty"`
}

// Appeal is an author's appeal.
type Appeal struct {
	Comment   string    `json:"comment"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"createdAt"`
}

// Action is an entry of the moderation log. It never names the moderator.
type Action struct {
	Action   string     `json:"action"`
	Article  string     `json:"article,omitempty"`
	Comment  string     `json:"comment,omitempty"`
	By       string     `json:"by"` // moderator or system
	Rule     string     `json:"rule,omitempty"`
	Note     string     `json:"note,omitempty"`
	Decision string     `json:"decision,omitempty"`
	Until    *time.Time `json:"until,omitempty"`
	At       time.Time  `json:"at"`
}

// commentID makes a comment's ID from what it is, so that it is the same in any database it is imported to.
func commentID(articleKey, parent string, c *Comment) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s", articleKey, parent, c.Author, c.CreatedAt.UnixMilli(), c.Body)
	return "c" + hex.EncodeToString(h.Sum(nil))[:16]
}

// ActionID identifies an action in a file, for importing it once.
func ActionID(a *Action) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s\x00%s", a.Action, a.Article, a.Comment, a.At.UnixMilli(), a.Rule, a.Note)
	return "m" + hex.EncodeToString(h.Sum(nil))[:16]
}
