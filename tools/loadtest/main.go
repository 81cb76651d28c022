// Command loadtest measures Threadline the way DESIGN.md states its targets: the release binary serving a
// generated thread, loaded by hey (Debian's package) at concurrency 32, several runs, medians reported.
//
//	go run ./tools/loadtest [-comments 1000] [-runs 3] [-duration 10s] [-concurrency 32]
//	    [-db sqlite,postgres://USER@HOST:PORT/postgres] [-servers 1,2] [-proxy] [-haproxy deploy/haproxy.cfg]
//	    [-scenarios post,anonymous]
//
// Scenarios: the first view of the thread (50 top-level comments with their first 3 replies) for an anonymous
// reader and for a signed-in one, the signed-in reader's own state of the same comments alone, and posting
// comments, each acknowledged only once durable. Only loopback addresses are used.
//
// Each database (-db) and number of servers (-servers) is a setup of its own: all of them are started first,
// then each run of a scenario goes to each setup in turn, so that they share the machine's moments alike, and a
// last table puts them side by side with their ratio to the first. Another table says how busy each setup's
// processes kept the CPU (Threadline, HAProxy, and PostgreSQL when it runs on this machine), read from /proc. More than one server, or -proxy, puts
// HAProxy in front, with the repository's configuration.
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
	"strings"
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

type config struct {
	bin            string
	comments, runs int
	duration       time.Duration
	concurrency    int
	dbs            []string
	servers        []int
	proxy          bool
	haproxy        string
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "bin/threadline", "the Threadline binary to measure")
	flag.IntVar(&c.comments, "comments", 1000, "comments in the generated thread (a quarter top-level, each with 3 replies)")
	flag.IntVar(&c.runs, "runs", 3, "runs of each scenario; the median is reported")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each run")
	flag.IntVar(&c.concurrency, "concurrency", 32, "concurrent requests")
	dbs := flag.String("db", "sqlite", "comma-separated databases to measure: sqlite (a new file), a new SQLite file's path, or a PostgreSQL server's URL "+
		"(postgres://USER@HOST:PORT/postgres?sslmode=disable), on which a new database is created and dropped after")
	servers := flag.String("servers", "1", "comma-separated numbers of servers; more than one are put behind HAProxy "+
		"(with SQLite, each server has its own copy of the file: reads compare, writes are not shared)")
	flag.BoolVar(&c.proxy, "proxy", false, "put HAProxy in front of a single server too")
	flag.StringVar(&c.haproxy, "haproxy", "deploy/haproxy.cfg", "the HAProxy configuration, whose addresses are replaced by the servers'")
	only := flag.String("scenarios", "", "comma-separated words; only the scenarios whose names contain one of them run (\"post\", \"anonymous\"); empty: all")
	flag.Parse()
	err := func() error {
		for _, db := range strings.Split(*dbs, ",") {
			if db = strings.TrimSpace(db); db != "" {
				c.dbs = append(c.dbs, db)
			}
		}
		if len(c.dbs) == 0 {
			return fmt.Errorf("-db: name at least one database")
		}
		var err error
		if c.servers, err = benchserver.Counts("servers", *servers); err != nil {
			return err
		}
		if *only != "" {
			scenarios = slices.DeleteFunc(scenarios, func(sc scenario) bool {
				return !slices.ContainsFunc(strings.Split(*only, ","), func(w string) bool { return strings.Contains(sc.name, strings.TrimSpace(w)) })
			})
			if len(scenarios) == 0 {
				return fmt.Errorf("-scenarios %q: no scenario's name contains any of them", *only)
			}
		}
		return run(c)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// setup is one database and number of servers, running.
type setup struct {
	name    string
	cluster *benchserver.Cluster
	results map[string][]result      // by scenario
	pg      *benchserver.PostgresCPU // PostgreSQL's processes, when the database is one on this machine
}

type scenario struct {
	name  string
	token bool // the reader's
	query string
	post  bool // the article's ID as $a
}

var scenarios = []scenario{
	{name: "first view, anonymous", query: firstView},
	{name: "first view, signed in", token: true, query: firstView},
	{name: "viewer overlay, signed in", token: true, query: viewerOverlay},
	{name: "post a comment", token: true, query: addComment, post: true},
}

func run(c config) error {
	if _, err := exec.LookPath("hey"); err != nil {
		return fmt.Errorf("hey is needed: apt-get install hey")
	}
	var setups []*setup
	defer func() {
		for _, s := range setups {
			s.cluster.Stop()
		}
	}()
	for _, db := range c.dbs {
		for _, n := range c.servers {
			proxied := n > 1 || c.proxy
			opts := benchserver.Options{Bin: c.bin, DB: db, Comments: c.comments, Servers: n}
			if proxied {
				opts.Proxy = c.haproxy
			}
			cluster, err := benchserver.Start(opts)
			if err != nil {
				return fmt.Errorf("%s with %d server(s): %w", benchserver.Redacted(db), n, err)
			}
			s := &setup{name: setupName(cluster.DB.Kind, n, proxied), cluster: cluster, results: map[string][]result{}}
			setups = append(setups, s)
			if cluster.DB.Shared() {
				if s.pg, err = benchserver.NewPostgresCPU(cluster.DB.URL); err != nil {
					fmt.Fprintf(os.Stderr, "loadtest: PostgreSQL's CPU is not measured: %v\n", err)
				}
			}
		}
	}

	fmt.Printf("Threadline %s, %d-comment thread, hey -c %d, %d runs of %s, medians\n", c.bin, c.comments, c.concurrency, c.runs, c.duration)
	for _, s := range setups {
		fmt.Printf("- %s: writes durable with %s", s.name, s.cluster.DB.Durability())
		if len(s.cluster.Servers) > 1 && !s.cluster.DB.Shared() {
			fmt.Print("; each server on its own copy of the file (one SQLite file has one server), so posts are not shared")
		}
		fmt.Println()
	}
	for _, sc := range scenarios {
		for range c.runs {
			for _, s := range setups {
				body := map[string]any{"query": sc.query}
				if sc.post {
					body["variables"] = map[string]any{"a": s.cluster.ArticleID}
				}
				token := ""
				if sc.token {
					token = s.cluster.Token
				}
				before, err := s.cpuTimes()
				if err != nil {
					return err
				}
				start := time.Now()
				r, err := hey(s.cluster.Dir, s.cluster.Base+"/graphql", token, body, c.duration, c.concurrency)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", s.name, sc.name, err)
				}
				if r.cpu, err = s.cpuSince(before, time.Since(start)); err != nil {
					return err
				}
				s.results[sc.name] = append(s.results[sc.name], r)
			}
		}
	}

	for _, s := range setups {
		fmt.Printf("\n%s\n\n| scenario | req/s | p50 ms | p99 ms | non-200 |\n|---|---:|---:|---:|---:|\n", s.name)
		for _, sc := range scenarios {
			m := medians(s.results[sc.name])
			fmt.Printf("| %s | %.0f | %.2f | %.2f | %d |\n", sc.name, m.rps, m.p50*1000, m.p99*1000, m.failed)
		}
	}
	fmt.Printf("\nCPU while loaded: cores busy (CPU ms per request); Threadline's cores are each server's, its CPU per request all servers'\n\n| setup | scenario | Threadline | HAProxy | PostgreSQL |\n|---|---|---:|---:|---:|\n")
	for _, s := range setups {
		for _, sc := range scenarios {
			m := medians(s.results[sc.name])
			cell := func(cores float64, ok bool) string {
				if !ok {
					return ""
				}
				return fmt.Sprintf("%.2f (%.3f)", cores, cores*1000/m.rps)
			}
			n := float64(len(s.cluster.Servers))
			servers := fmt.Sprintf("%.2f (%.3f)", m.cpu.servers/n, m.cpu.servers*1000/m.rps)
			fmt.Printf("| %s | %s | %s | %s | %s |\n", s.name, sc.name, servers,
				cell(m.cpu.proxy, s.cluster.Proxied), cell(m.cpu.postgres, s.pg != nil))
		}
	}
	if len(setups) > 1 {
		fmt.Printf("\nSide by side, req/s (p99 ms), and the ratio of each rate to the first's\n\n| scenario |")
		for _, s := range setups {
			fmt.Printf(" %s |", s.name)
		}
		fmt.Printf("\n|---|%s\n", strings.Repeat("---:|", len(setups)))
		for _, sc := range scenarios {
			first := medians(setups[0].results[sc.name])
			fmt.Printf("| %s |", sc.name)
			for i, s := range setups {
				m := medians(s.results[sc.name])
				if i == 0 {
					fmt.Printf(" %.0f (%.1f) |", m.rps, m.p99*1000)
				} else {
					fmt.Printf(" %.0f (%.1f), %.2f× |", m.rps, m.p99*1000, m.rps/first.rps)
				}
			}
			fmt.Println()
		}
	}
	return nil
}

func setupName(kind string, servers int, proxied bool) string {
	name := kind + ", 1 server"
	if servers > 1 {
		name = fmt.Sprintf("%s, %d servers", kind, servers)
	}
	if proxied {
		name += " behind HAProxy"
	}
	return name
}

type result struct {
	rps, p50, p99 float64 // requests per second; latencies in seconds
	failed        int     // responses other than 200
	cpu           cpu
}

// cpu is the cores that were busy during a run, on average: all the servers together, HAProxy, PostgreSQL.
type cpu struct{ servers, proxy, postgres float64 }

// cpuMark is the CPU time used so far by a setup's processes.
type cpuMark struct {
	servers, proxy time.Duration
	postgres       map[int]time.Duration
}

func (s *setup) cpuTimes() (m cpuMark, err error) {
	for _, srv := range s.cluster.Servers {
		t, err := benchserver.CPUTime(srv.Pid())
		if err != nil {
			return m, err
		}
		m.servers += t
	}
	if pid := s.cluster.ProxyPid(); pid != 0 {
		if m.proxy, err = benchserver.CPUTime(pid); err != nil {
			return m, err
		}
	}
	if s.pg != nil {
		m.postgres, err = s.pg.Times()
	}
	return m, err
}

// cpuSince returns the cores a setup's processes kept busy since before, over the wall time d.
func (s *setup) cpuSince(before cpuMark, d time.Duration) (cpu, error) {
	now, err := s.cpuTimes()
	if err != nil {
		return cpu{}, err
	}
	c := cpu{servers: (now.servers - before.servers).Seconds() / d.Seconds(), proxy: (now.proxy - before.proxy).Seconds() / d.Seconds()}
	if s.pg != nil {
		t, err := s.pg.Since(before.postgres)
		if err != nil {
			return cpu{}, err
		}
		c.postgres = t.Seconds() / d.Seconds()
	}
	return c, nil
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
		cpu: cpu{
			servers:  median(func(r result) float64 { return r.cpu.servers }),
			proxy:    median(func(r result) float64 { return r.cpu.proxy }),
			postgres: median(func(r result) float64 { return r.cpu.postgres }),
		},
		rps:    median(func(r result) float64 { return r.rps }),
		p50:    median(func(r result) float64 { return r.p50 }),
		p99:    median(func(r result) float64 { return r.p99 }),
		failed: failed,
	}
}
