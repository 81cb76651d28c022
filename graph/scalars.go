package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/threadline/threadline/thread"
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

// MarshalInt writes a GraphQL Int. Threadline's counts stay far below 2³¹.
func MarshalInt(i int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.FormatInt(int64(i), 10))
	})
}

// UnmarshalInt reads a GraphQL Int, which the specification makes a signed 32-bit integer: a literal or a
// variable outside that range is refused as bad input, where gqlgen's own Int would take any 64-bit value.
func UnmarshalInt(v any) (int, error) {
	var n int64
	var err error
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case json.Number:
		n, err = strconv.ParseInt(string(v), 10, 64)
	case float64: // JSON decoded without UseNumber (a WebSocket message)
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return 0, thread.Errorf(thread.CodeInvalid, "%v is not an Int: an Int is a whole number", v)
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return 0, intRangeError(fmt.Sprint(v))
		}
		n = int64(v)
	default:
		return 0, thread.Errorf(thread.CodeInvalid, "%v is not an Int", v)
	}
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, intRangeError(fmt.Sprint(v))
		}
		return 0, thread.Errorf(thread.CodeInvalid, "%v is not an Int: an Int is a whole number", v)
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, intRangeError(strconv.FormatInt(n, 10))
	}
	return int(n), nil
}

func intRangeError(v string) error {
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return thread.Errorf(thread.CodeInvalid, "%s is out of range: an Int is a 32-bit integer, from %d to %d", v, math.MinInt32, math.MaxInt32)
}
