package markdown

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
)

func TestZZSlow2(t *testing.T) {
	plain := goldmark.New()
	for _, n := range []int{1000, 3000, 10000} {
		for name, s := range map[string]string{
			"starsU": strings.Repeat("*a_", n),
			"quote":  strings.Repeat("> ", n),
			"nestimg": strings.Repeat("![", n) + "a" + strings.Repeat("](https://e.com)", n),
		} {
			var buf bytes.Buffer
			start := time.Now()
			plain.Convert([]byte(s), &buf)
			d1 := time.Since(start)
			buf.Reset()
			start = time.Now()
			md.Convert([]byte(s), &buf)
			d2 := time.Since(start)
			start = time.Now()
			policy.Sanitize(buf.String())
			d3 := time.Since(start)
			t.Logf("%-8s %6d bytes: plain goldmark %v, ours %v, sanitize %v", name, len(s), d1, d2, d3)
		}
	}
}
