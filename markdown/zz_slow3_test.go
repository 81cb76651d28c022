package markdown

import (
	"strings"
	"testing"
	"time"
)

func TestZZSlow3(t *testing.T) {
	for _, n := range []int{1000, 3000, 10000, 30000} {
		for name, s := range map[string]string{
			"parenurl": strings.Repeat("(https://a/", n/11),
			"nestimg":  strings.Repeat("![", n/18) + "a" + strings.Repeat("](https://e.com)", n/18),
			"starsU":   strings.Repeat("*a_", n/3),
			"quote":    strings.Repeat("> ", n/2),
			"tildeurl": strings.Repeat("~https://a/", n/11),
		} {
			start := time.Now()
			Render(s)
			t.Logf("%-8s %6d bytes: %v", name, len(s), time.Since(start))
		}
	}
}
