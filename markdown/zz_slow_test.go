package markdown

import (
	"strings"
	"testing"
	"time"
)

func TestZZSlow(t *testing.T) {
	n := 20000
	for name, s := range map[string]string{
		"brackets":  strings.Repeat("[", n),
		"imgopen":   strings.Repeat("![", n),
		"stars":     strings.Repeat("*a", n),
		"starsU":    strings.Repeat("*a_", n),
		"quote":     strings.Repeat("> ", n),
		"list":      strings.Repeat("- ", n),
		"lt":        strings.Repeat("<", n),
		"ltA":       strings.Repeat("<a", n),
		"lines":     strings.Repeat("a\n", n),
		"www":       strings.Repeat("www.", n),
		"httpsp":    strings.Repeat("https://a ", n),
		"links":     strings.Repeat("[a](https://e.com) ", n),
		"reflinks":  strings.Repeat("[a]", n),
		"linkpar":   "[a](" + strings.Repeat("(", n),
		"tildes":    strings.Repeat("~~a", n),
		"backticks": strings.Repeat("`a``", n),
		"email":     strings.Repeat("a@", n),
		"emaildots": strings.Repeat("a.", n) + "@",
		"nested":    strings.Repeat("[", n) + "a" + strings.Repeat("](https://e.com)", n),
		"nestimg":   strings.Repeat("![", n) + "a" + strings.Repeat("](https://e.com)", n),
		"entities":  strings.Repeat("&#1", n),
		"indent":    strings.Repeat(" ", n) + "- a",
		"listnest":  func() string { var b strings.Builder; for i := 0; i < 2000; i++ { b.WriteString(strings.Repeat("  ", i) + "- a\n") }; return b.String() }(),
	} {
		start := time.Now()
		Render(s)
		t.Logf("%-10s %d bytes: %v", name, len(s), time.Since(start))
	}
}
