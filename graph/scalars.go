package graph

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// Node is any object with a global ID: *thread.Site, *thread.Article, *thread.Comment or *thread.Reader.
type Node interface{}

// dateTimeLayout is RFC 3339 in UTC with exactly three fractional digits, so that times sort as strings.
const dateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalDateTime writes t as an RFC 3339 string in UTC with milliseconds.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(dateTimeLayout)))
	})
}

// UnmarshalDateTime reads an RFC 3339 string.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("a DateTime must be an RFC 3339 string")
	}
	return time.Parse(time.RFC3339Nano, s)
}
