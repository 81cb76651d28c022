// Command loadtest measures Threadline the way DESIGN.md states its targets: the release binary serving a
// generated thread, loaded by hey (Debian's package) at concurrency 32, several runs, medians reported.
//
//	go run ./tools/loadtest [-comments 1000] [-runs 3] [-duration 10s] [-concurrency 32]
//
// Scenarios: the first view of the thread (50 top-level comments with their first 3 replies) for an anonymous
// reader and for a signed-in one, the signed-in reader's own state of the same comments alone, and posting
// comments. Only loopback addresses are used.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/threadline/threadline/internal/benchserver"
)

// firstView is the widget's first view: 50 top-level comments, each with its first 3 replies.
const firstView = `{ article(site: "bench", key: "generated") { id commentCount
  comments(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
    id body bodyHTML createdAt editedAt status depth likeCount replyCount viewerHasLiked viewerCanEdit
    author { id displayName }
    replies(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
      id body bodyHTML createdAt editedAt status depth likeCount replyCount viewerHasLiked viewerCanEdit
      author { id displayName } } } } } } } } }`

// viewerOverlay is what a signed-in reader's page needs beyond the anonymous first view: the viewer's own
// state of each comment on it. With it, the first view itself can come from the anonymous response cache.
const viewerOverlay = `{ article(site: "bench", key: "generated") {
  comments(first: 50) { nodes { id viewerHasLiked viewerCanEdit
    replies(first: 3) { nodes { id viewerHasLiked viewerCanEdit } } } } } }`

const addComment = `mutation($a: ID!) { addComment(input: {articleId: $a, body: "A comment posted by the load test, with *some* Markdown."}) { comment { id } } }`

func main() {
	bin := flag.String("bin", "bin/threadline", "the Threadline binary to measure")
	comments := flag.Int("comments", 1000, "comments in the generated thread (a quarter top-level, each with 3 replies)")
	runs := flag.Int("runs", 3, "runs of each scenario; the median is reported")
	duration := flag.Duration("duration", 10*time.Second, "length of each run")
	concurrency := flag.Int("concurrency", 32, "concurrent requests")
	flag.Parse()
	if err := run(*bin, *comments, *runs, *duration, *concurrency); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(bin string, comments, runs int, duration time.Duration, concurrency int) error {
	if _, err := exec.LookPath("hey"); err != nil {
		return fmt.Errorf("hey is needed: apt-get install hey")
	}
	srv, err := benchserver.Start(bin, comments)
	if err != nil {
		return err
	}
	defer srv.Stop()

	fmt.Printf("Threadline %s, %d-comment thread, hey -c %d, %d runs of %s, medians\n\n", bin, comments, concurrency, runs, duration)
	fmt.Printf("| scenario | req/s | p50 ms | p99 ms | non-200 |\n|---|---:|---:|---:|---:|\n")
	for _, sc := range []struct {
		name, token string
		body        map[string]any
	}{
		{"first view, anonymous", "", map[string]any{"query": firstView}},
		{"first view, signed in", srv.Token, map[string]any{"query": firstView}},
		{"viewer overlay, signed in", srv.Token, map[string]any{"query": viewerOverlay}},
		{"post a comment", srv.Token, map[string]any{"query": addComment, "variables": map[string]any{"a": srv.ArticleID}}},
	} {
		var results []result
		for range runs {
			r, err := hey(srv.Dir, srv.Base+"/graphql", sc.token, sc.body, duration, concurrency)
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			results = append(results, r)
		}
		m := medians(results)
		fmt.Printf("| %s | %.0f | %.2f | %.2f | %d |\n", sc.name, m.rps, m.p50*1000, m.p99*1000, m.failed)
	}
	return nil
}

type result struct {
	rps, p50, p99 float64 // requests per second; latencies in seconds
	failed        int     // responses other than 200
}

var (
	rpsLine    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p50Line    = regexp.MustCompile(`50%+ in ([0-9.]+) secs`)
	p99Line    = regexp.MustCompile(`99%+ in ([0-9.]+) secs`)
	statusLine = regexp.MustCompile(`\[(\d{3})\]\s+(\d+) responses`)
)

// hey runs one load of the endpoint with body and parses hey's summary.
func hey(dir, url, token string, body map[string]any, d time.Duration, c int) (result, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return result{}, err
	}
	file := filepath.Join(dir, "body.json")
	if err := os.WriteFile(file, payload, 0o600); err != nil {
		return result{}, err
	}
	args := []string{"-z", d.String(), "-c", strconv.Itoa(c), "-m", "POST", "-T", "application/json", "-D", file}
	if token != "" {
		args = append(args, "-H", "Authorization: Bearer "+token)
	}
	out, err := exec.Command("hey", append(args, url)...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("hey: %v\n%s", err, out)
	}
	var r result
	for _, f := range []struct {
		re *regexp.Regexp
		to *float64
	}{{rpsLine, &r.rps}, {p50Line, &r.p50}, {p99Line, &r.p99}} {
		m := f.re.FindSubmatch(out)
		if m == nil {
			return result{}, fmt.Errorf("unexpected hey output:\n%s", out)
		}
		*f.to, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	for _, m := range statusLine.FindAllSubmatch(out, -1) {
		if string(m[1]) != "200" {
			n, _ := strconv.Atoi(string(m[2]))
			r.failed += n
		}
	}
	return r, nil
}

func medians(rs []result) result {
	median := func(get func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	failed := 0
	for _, r := range rs {
		failed += r.failed
	}
	return result{
		rps:    median(func(r result) float64 { return r.rps }),
		p50:    median(func(r result) float64 { return r.p50 }),
		p99:    median(func(r result) float64 { return r.p99 }),
		failed: failed,
	}
}
