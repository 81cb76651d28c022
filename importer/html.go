package importer

import (
	"html"
	"strings"

	htmltomarkdown "github.com/JohannesKaufmann/html-to-markdown/v2"
)

// markdownOf turns a source's HTML body into Markdown, which Threadline then renders and sanitizes like any
// comment. Text with no markup keeps its paragraphs and line breaks, as WordPress shows them.
func markdownOf(body string) string {
	body = strings.TrimSpace(body)
	if !strings.ContainsAny(body, "<&") {
		return body
	}
	if !hasBlockTags(body) { // WordPress stores paragraphs as blank lines; make them HTML first
		paragraphs := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n")
		for i, p := range paragraphs {
			paragraphs[i] = "<p>" + strings.ReplaceAll(strings.TrimSpace(p), "\n", "<br>") + "</p>"
		}
		body = strings.Join(paragraphs, "")
	}
	md, err := htmltomarkdown.ConvertString(body)
	if err != nil {
		return html.UnescapeString(body) // shown escaped by the renderer: nothing is lost, nothing runs
	}
	return strings.TrimSpace(md)
}

func hasBlockTags(s string) bool {
	lower := strings.ToLower(s)
	for _, tag := range []string{"<p", "<div", "<br", "<blockquote", "<ul", "<ol", "<pre"} {
		if strings.Contains(lower, tag) {
			return true
		}
	}
	return false
}
