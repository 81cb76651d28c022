package markdown

import ("testing";"fmt")

func TestZZTry(t *testing.T) {
	for _, s := range []string{"a\r\nb\r\n\r\nc", "a\rb", "```\r\nx\r\n```", "- a\r\n- b", "x\x00y", "\xff\xfe", "a <b@example.com> c", "[a](<https://e.com/a b>)", "https://e.com/ü", "[x](https://e.com/\"><script>)"} {
		fmt.Printf("%q\n  => %q\n", s, Render(s))
	}
}
