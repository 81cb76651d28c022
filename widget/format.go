package widget

import (
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func countLabel(n int) string       { return plural(n, "comment", "comments") }
func likesLabel(n int) string       { return plural(n, "like", "likes") }
func moreLabel(n int) string        { return plural(n, "more comment", "more comments") }
func moreRepliesLabel(n int) string { return plural(n, "more reply", "more replies") }

// relativeTime says how long before now t was, as a reader says it: "just now", "5 minutes ago", "3 days
// ago", then the date.
func relativeTime(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute", "minutes") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour", "hours") + " ago"
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day", "days") + " ago"
	case t.Year() == now.Year():
		return t.Format("2 January")
	}
	return t.Format("2 January 2006")
}
