package markdown

import (
	"bytes"
	"testing"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
)

func BenchmarkPartGoldmarkOnly(b *testing.B) {
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		md.Convert([]byte(benchComment), &buf)
	}
}

func BenchmarkPartSanitizeOnly(b *testing.B) {
	var buf bytes.Buffer
	md.Convert([]byte(benchComment), &buf)
	h := buf.String()
	b.ReportAllocs()
	for b.Loop() {
		policy.Sanitize(h)
	}
}

func BenchmarkPartBaselineDefaults(b *testing.B) {
	m := goldmark.New()
	p := bluemonday.UGCPolicy()
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		m.Convert([]byte(benchComment), &buf)
		p.SanitizeBytes(buf.Bytes())
	}
}
