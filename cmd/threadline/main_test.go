package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// clearEnv unsets every THREADLINE_ variable for the test, so that the environment the tests run in cannot
// change what they see; all but the one that names the tests' PostgreSQL server. Tests that call it must not
// be parallel.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "THREADLINE_") && name != pgtest.Env {
			t.Setenv(name, "") // restores the value after the test
			os.Unsetenv(name)
		}
	}
}

func TestRun(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantErr    string // substring of the error; "" for none
		wantHelp   bool   // the error is flag.ErrHelp
		wantStderr []string
	}{
		{name: "no arguments", args: nil, wantErr: "no command given", wantStderr: []string{"Usage:", "threadline serve", "threadline migrate"}},
		{name: "empty arguments", args: []string{}, wantErr: "no command given", wantStderr: []string{"Usage:"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`, wantStderr: []string{"Usage:"}},
		{name: "flag instead of a command", args: []string{"--addr", ":1"}, wantErr: `unknown command "--addr"`, wantStderr: []string{"Usage:"}},
		{name: "help", args: []string{"help"}, wantStderr: []string{"Usage:", "threadline serve"}},
		{name: "-h", args: []string{"-h"}, wantStderr: []string{"Usage:"}},
		{name: "--help", args: []string{"--help"}, wantStderr: []string{"Usage:"}},
		{name: "serve --help", args: []string{"serve", "--help"}, wantHelp: true,
			wantStderr: []string{"-addr", "(env THREADLINE_ADDR)", "-db", "SQLite file (created if missing) or postgres:// URL", "(env THREADLINE_DB)", "-drain", "(default 5s)", "-log-level", "(env THREADLINE_LOG_LEVEL)", "(env THREADLINE_SAMPLE)"}},
		{name: "migrate -h", args: []string{"migrate", "-h"}, wantHelp: true, wantStderr: []string{"-db", "SQLite file (created if missing) or postgres:// URL", "(env THREADLINE_DB)"}},
		{name: "export -h", args: []string{"export", "-h"}, wantHelp: true, wantStderr: []string{"SQLite file (created if missing) or postgres:// URL"}},
		{name: "import -h", args: []string{"import", "-h"}, wantHelp: true, wantStderr: []string{"SQLite file (created if missing) or postgres:// URL"}},
		{name: "site create -h", args: []string{"site", "create", "-h"}, wantHelp: true, wantStderr: []string{"SQLite file (created if missing) or postgres:// URL"}},
		{name: "article create -h", args: []string{"article", "create", "-h"}, wantHelp: true, wantStderr: []string{"SQLite file (created if missing) or postgres:// URL"}},
		{name: "backup -h", args: []string{"backup", "-h"}, wantHelp: true, wantStderr: []string{"pg_dump"}},
		{name: "serve with another kind of URL", args: []string{"serve", "--db", "mysql://app:s3cret@db/x"}, wantErr: "mysql://"},
		{name: "serve with an unknown flag", args: []string{"serve", "--db", filepath.Join(dir, "x.db"), "--bogus"}, wantErr: "bogus"},
		{name: "serve with a bad address", args: []string{"serve", "--db", filepath.Join(dir, "x.db"), "--addr", "8080"}, wantErr: "--addr"},
		{name: "serve with a bad log format", args: []string{"serve", "--db", filepath.Join(dir, "x.db"), "--log-format", "xml"}, wantErr: "--log-format"},
		{name: "serve with a bad log level", args: []string{"serve", "--db", filepath.Join(dir, "x.db"), "--log-level", "LOUD"}, wantErr: "LOUD"},
		{name: "migrate with an extra flag", args: []string{"migrate", "--addr", ":1"}, wantErr: "addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			switch {
			case tt.wantHelp:
				if !errors.Is(err, flag.ErrHelp) {
					t.Errorf("err = %v, want flag.ErrHelp", err)
				}
			case tt.wantErr == "":
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
			case err == nil || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
	// Refused before the database was opened: nothing was created.
	if _, err := os.Stat(filepath.Join(dir, "x.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused serve created its database (stat: %v)", err)
	}
}

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"addr":       "THREADLINE_ADDR",
		"db":         "THREADLINE_DB",
		"log-format": "THREADLINE_LOG_FORMAT",
		"demo-addr":  "THREADLINE_DEMO_ADDR",
	} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

// testFlags is a flag set with one flag of each kind runServe uses.
type testFlags struct {
	fs     *flag.FlagSet
	name   string
	count  int
	dryRun bool
	level  slog.Level
}

func newTestFlags() *testFlags {
	f := &testFlags{fs: flag.NewFlagSet("test", flag.ContinueOnError)}
	f.fs.SetOutput(io.Discard)
	f.fs.StringVar(&f.name, "name", "default", "a string")
	f.fs.IntVar(&f.count, "count", 1, "an int")
	f.fs.BoolVar(&f.dryRun, "dry-run", false, "a bool")
	f.fs.TextVar(&f.level, "level", slog.LevelInfo, "a level")
	return f
}

func TestParseFlagsPrecedence(t *testing.T) {
	clearEnv(t)
	allEnv := map[string]string{
		"THREADLINE_NAME": "from-env", "THREADLINE_COUNT": "5", "THREADLINE_DRY_RUN": "true", "THREADLINE_LEVEL": "WARN",
	}
	type values struct {
		name   string
		count  int
		dryRun bool
		level  slog.Level
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want values
	}{
		{"defaults", nil, nil, values{"default", 1, false, slog.LevelInfo}},
		{"environment over defaults", allEnv, nil, values{"from-env", 5, true, slog.LevelWarn}},
		{"flags over defaults", nil, []string{"--name", "from-flag", "--count", "7", "--dry-run", "--level", "ERROR"},
			values{"from-flag", 7, true, slog.LevelError}},
		{"flags over environment", allEnv, []string{"--name", "from-flag", "--count", "7", "--dry-run=false", "--level", "DEBUG"},
			values{"from-flag", 7, false, slog.LevelDebug}},
		{"some flags over environment", allEnv, []string{"--count", "9"}, values{"from-env", 9, true, slog.LevelWarn}},
		{"some environment, some flags", map[string]string{"THREADLINE_DRY_RUN": "1"}, []string{"--name", "x"},
			values{"x", 1, true, slog.LevelInfo}},
		{"unrelated variables are ignored", map[string]string{"NAME": "no", "THREADLINE_NAMES": "no", "threadline_name": "no"}, nil,
			values{"default", 1, false, slog.LevelInfo}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			f := newTestFlags()
			if err := parseFlags(f.fs, tt.args); err != nil {
				t.Fatalf("parseFlags: %v", err)
			}
			if got := (values{f.name, f.count, f.dryRun, f.level}); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			for _, name := range []string{"name", "count", "dry-run", "level"} {
				if u := f.fs.Lookup(name).Usage; !strings.HasSuffix(u, "(env "+envName(name)+")") {
					t.Errorf("usage of --%s = %q, want it to name %s", name, u, envName(name))
				}
			}
		})
	}
}

func TestParseFlagsErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // substrings of the error
	}{
		{"bad int in the environment", map[string]string{"THREADLINE_COUNT": "many"}, nil, []string{"THREADLINE_COUNT", "many"}},
		{"bad bool in the environment", map[string]string{"THREADLINE_DRY_RUN": "perhaps"}, nil, []string{"THREADLINE_DRY_RUN", "perhaps"}},
		{"bad level in the environment", map[string]string{"THREADLINE_LEVEL": "LOUD"}, nil, []string{"THREADLINE_LEVEL", "LOUD"}},
		{"bad environment even with a good flag", map[string]string{"THREADLINE_COUNT": "many"}, []string{"--count", "3"}, []string{"THREADLINE_COUNT"}},
		{"bad flag", nil, []string{"--count", "many"}, []string{"count"}},
		{"unknown flag", nil, []string{"--colour"}, []string{"colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := parseFlags(newTestFlags().fs, tt.args)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}

	// Through the real command: the variable is named, and nothing is opened.
	t.Run("serve", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "env.db")
		t.Setenv("THREADLINE_LOG_LEVEL", "LOUD")
		err := run(context.Background(), []string{"serve", "--db", db}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "THREADLINE_LOG_LEVEL") {
			t.Errorf("err = %v, want one naming THREADLINE_LOG_LEVEL", err)
		}
		if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the database was created (stat: %v)", err)
		}
	})
}

func TestServeConfigValidate(t *testing.T) {
	good := serveConfig{Addr: ":8080", DB: "threadline.db", Sample: true, LogFormat: "text",
		SubscriptionsPerConnection: 10, SubscriptionsPerClient: 100, SubscriptionIdle: time.Minute}
	tests := []struct {
		name    string
		change  func(c *serveConfig)
		wantErr string // "" for valid
	}{
		{"defaults", func(c *serveConfig) {}, ""},
		{"host and port", func(c *serveConfig) { c.Addr = "127.0.0.1:0" }, ""},
		{"IPv6 host", func(c *serveConfig) { c.Addr = "[::1]:8080" }, ""},
		{"name and port", func(c *serveConfig) { c.Addr = "localhost:8080" }, ""},
		{"json logs", func(c *serveConfig) { c.LogFormat = "json" }, ""},
		{"no sample", func(c *serveConfig) { c.Sample = false }, ""},
		{"port without colon", func(c *serveConfig) { c.Addr = "8080" }, "--addr"},
		{"empty address", func(c *serveConfig) { c.Addr = "" }, "--addr"},
		{"host without port", func(c *serveConfig) { c.Addr = "localhost" }, "--addr"},
		{"unbracketed IPv6", func(c *serveConfig) { c.Addr = "::1:8080:x" }, "--addr"},
		{"empty db", func(c *serveConfig) { c.DB = "" }, "--db"},
		{"postgres db", func(c *serveConfig) { c.DB = "postgres://app@db.example/threadline?sslmode=verify-full" }, ""},
		{"postgresql db", func(c *serveConfig) { c.DB = "postgresql://app@db.example/threadline" }, ""},
		{"mistyped postgres URL", func(c *serveConfig) { c.DB = "postgres:/db.example/threadline" }, "postgres://"},
		{"another kind of URL", func(c *serveConfig) { c.DB = "mysql://app@db.example/threadline" }, "mysql://"},
		{"no drain", func(c *serveConfig) { c.Drain = 0 }, ""},
		{"negative drain", func(c *serveConfig) { c.Drain = -time.Second }, "--drain"},
		{"xml logs", func(c *serveConfig) { c.LogFormat = "xml" }, "--log-format"},
		{"empty log format", func(c *serveConfig) { c.LogFormat = "" }, "--log-format"},
		{"upper-case log format", func(c *serveConfig) { c.LogFormat = "JSON" }, "--log-format"},
		{"no subscriptions per connection", func(c *serveConfig) { c.SubscriptionsPerConnection = 0 }, "--subscriptions-per-connection"},
		{"no subscriptions per client", func(c *serveConfig) { c.SubscriptionsPerClient = -1 }, "--subscriptions-per-client"},
		{"no idle time", func(c *serveConfig) { c.SubscriptionIdle = 0 }, "--subscription-idle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("validate() = %v, want an error about %s", err, tt.wantErr)
			}
		})
	}
}

// syncBuffer is a buffer that the server's goroutines may write while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// serving is a runServe running in a goroutine.
type serving struct {
	addr   string
	stderr *syncBuffer
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startServe runs `threadline serve --addr ADDR args...` and waits until /healthz answers 200.
func startServe(t *testing.T, args ...string) *serving {
	t.Helper()
	s := &serving{addr: freeAddr(t), stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		s.done <- runServe(ctx, append([]string{"--addr", s.addr}, args...), s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("runServe did not return after the test")
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-s.done:
			s.done <- err // for the cleanup
			t.Fatalf("runServe returned before serving: %v\n%s", err, s.stderr.String())
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200 in time (last error %v)\n%s", err, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop cancels the server's context and returns what runServe returned.
func (s *serving) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("runServe did not return after its context was cancelled")
		return nil
	}
}

// query posts a GraphQL query and decodes its data into v.
func (s *serving) query(t *testing.T, query string, v any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post("http://"+s.addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode (status %d): %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || len(out.Errors) > 0 {
		t.Fatalf("status %d, errors %+v", resp.StatusCode, out.Errors)
	}
	if err := json.Unmarshal(out.Data, v); err != nil {
		t.Fatalf("decode data: %v\n%s", err, out.Data)
	}
}

// commentCount returns the sample article's commentCount, or -1 when there is no such article.
func (s *serving) commentCount(t *testing.T) int {
	t.Helper()
	var data struct {
		Article *struct{ CommentCount int }
	}
	s.query(t, `{ article(site: "demo", key: "social-credit") { commentCount } }`, &data)
	if data.Article == nil {
		return -1
	}
	return data.Article.CommentCount
}

const loadedMsg = "loaded the sample article"

func TestServeEndToEnd(t *testing.T) {
	clearEnv(t)
	eachStore(t, testServeEndToEnd)
}

func testServeEndToEnd(t *testing.T, db string) {

	// First start: a new database, the sample loaded, text logs.
	first := startServe(t, "--db", db)
	if n := first.commentCount(t); n != 45 {
		t.Errorf("first start: commentCount = %d, want 45", n)
	}
	if err := first.stop(t); err != nil {
		t.Errorf("first start: runServe returned %v after cancel, want nil", err)
	}
	log := first.stderr.String()
	for _, want := range []string{
		`msg="` + loadedMsg + `" site=demo article=social-credit`,
		`msg="threadline is serving" url=http://` + first.addr,
		`db=`, db,
		`msg="shutting down"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("first start: the log lacks %q:\n%s", want, log)
		}
	}
	if strings.Count(log, loadedMsg) != 1 {
		t.Errorf("first start: the log mentions loading the sample %d times", strings.Count(log, loadedMsg))
	}
	if _, err := http.Get("http://" + first.addr + "/healthz"); err == nil {
		t.Error("first start: still serving after runServe returned")
	}
	if first.stdout.String() != "" {
		t.Errorf("first start: stdout = %q, want nothing", first.stdout.String())
	}

	// Second start on the same file, configured through the environment, with JSON logs: the sample is there
	// already and is not loaded again.
	t.Setenv("THREADLINE_DB", db)
	t.Setenv("THREADLINE_LOG_FORMAT", "json")
	second := startServe(t)
	if n := second.commentCount(t); n != 45 {
		t.Errorf("second start: commentCount = %d, want 45", n)
	}
	var top struct {
		Article struct {
			Comments struct{ TotalCount int }
		}
	}
	second.query(t, `{ article(site: "demo", key: "social-credit") { comments { totalCount } } }`, &top)
	if top.Article.Comments.TotalCount != 45 {
		t.Errorf("second start: totalCount = %d, want 45", top.Article.Comments.TotalCount)
	}
	if err := second.stop(t); err != nil {
		t.Errorf("second start: runServe returned %v after cancel, want nil", err)
	}
	log = second.stderr.String()
	if strings.Contains(log, loadedMsg) || strings.Contains(log, "sample") {
		t.Errorf("second start: the log talks about the sample:\n%s", log)
	}
	var serving bool
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("second start: log line is not JSON: %q", sc.Text())
			continue
		}
		if line["msg"] == "threadline is serving" {
			serving = line["url"] == "http://"+second.addr && line["db"] == db
		}
	}
	if !serving {
		t.Errorf("second start: no JSON line says it serves http://%s from %s:\n%s", second.addr, db, log)
	}
}

func TestServeWithoutSample(t *testing.T) {
	clearEnv(t)
	eachStore(t, testServeWithoutSample)
}

func testServeWithoutSample(t *testing.T, db string) {
	s := startServe(t, "--db", db, "--sample=false")
	if n := s.commentCount(t); n != -1 {
		t.Errorf("commentCount = %d, want no sample article", n)
	}
	var data struct{ Site *struct{ Name string } }
	s.query(t, `{ site(slug: "demo") { name } }`, &data)
	if data.Site != nil {
		t.Errorf("site demo = %+v, want none", data.Site)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("runServe returned %v, want nil", err)
	}
	if strings.Contains(s.stderr.String(), loadedMsg) {
		t.Errorf("the log says the sample was loaded:\n%s", s.stderr.String())
	}
}

func TestServeAddressInUse(t *testing.T) {
	clearEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		done <- runServe(context.Background(), []string{"--addr", ln.Addr().String(), "--db", filepath.Join(t.TempDir(), "busy.db")}, io.Discard, io.Discard)
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("runServe on a busy address returned nil")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("runServe on a busy address did not return")
	}
}

func TestMigrate(t *testing.T) {
	clearEnv(t)
	t.Run("creates the database", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "new.db")
		for i := range 2 { // the second run finds the schema up to date
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), []string{"migrate", "--db", db}, &stdout, &stderr); err != nil {
				t.Fatalf("run #%d: %v\n%s", i+1, err, stderr.String())
			}
			if want := db + ": schema up to date\n"; stdout.String() != want {
				t.Errorf("run #%d: stdout = %q, want %q", i+1, stdout.String(), want)
			}
			fi, err := os.Stat(db)
			if err != nil || fi.Size() == 0 {
				t.Fatalf("run #%d: database file %v, %v; want a non-empty file", i+1, fi, err)
			}
		}
		// A usable, empty database: the schema is there and migrate loaded no sample.
		ctx := context.Background()
		st, err := sqlite.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		svc := thread.NewService(st)
		if _, err := svc.Site(ctx, "demo"); thread.ErrorCode(err) != thread.CodeNotFound {
			t.Errorf("site demo after migrate: %v, want NOT_FOUND", err)
		}
		if _, err := svc.EnsureSite(ctx, "demo", "Demo"); err != nil {
			t.Errorf("the migrated database takes no site: %v", err)
		}
	})
	t.Run("db from the environment", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "env.db")
		t.Setenv("THREADLINE_DB", db)
		var stdout bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(db); err != nil {
			t.Errorf("THREADLINE_DB was not created: %v", err)
		}
		if !strings.HasPrefix(stdout.String(), db+":") {
			t.Errorf("stdout = %q, want it to name %s", stdout.String(), db)
		}
	})
	t.Run("directory missing", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
		var stdout bytes.Buffer
		err := run(context.Background(), []string{"migrate", "--db", db}, &stdout, io.Discard)
		if err == nil {
			t.Error("migrate into a missing directory succeeded")
		}
		if stdout.Len() > 0 {
			t.Errorf("stdout = %q, want nothing on failure", stdout.String())
		}
	})
}

// The usage text lists every command the program has.
func TestUsageListsCommands(t *testing.T) {
	for name := range commands {
		if !strings.Contains(usage, fmt.Sprintf("threadline %s ", name)) {
			t.Errorf("usage does not list %q", name)
		}
	}
}

// TestBackupCommand copies a database with `threadline backup`, and refuses to write over a file.
func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "live.db"), filepath.Join(dir, "copy.db")
	if err := run(context.Background(), []string{"migrate", "--db", db}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	if err := run(context.Background(), []string{"backup", "--db", db, out}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "a consistent copy of") {
		t.Errorf("backup said %q", stdout.String())
	}
	if err := run(context.Background(), []string{"migrate", "--db", out}, io.Discard, io.Discard); err != nil {
		t.Errorf("the copy does not open: %v", err)
	}
	if err := run(context.Background(), []string{"backup", "--db", db, out}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second backup to the same file: %v", err)
	}
	if err := run(context.Background(), []string{"backup", "--db", db}, io.Discard, io.Discard); err == nil {
		t.Error("a backup without a file name succeeded")
	}
}

// TestImportAndExportCommands imports a Disqus file into a site made with `site create`, dry run first, then
// exports it.
func TestImportAndExportCommands(t *testing.T) {
	clearEnv(t)
	eachStore(t, testImportAndExportCommands)
}

func testImportAndExportCommands(t *testing.T, db string) {
	ctx := context.Background()
	if err := run(ctx, []string{"site", "create", "--db", db, "--slug", "gazette", "--name", "Gazette"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", "..", "importer", "testdata", "disqus.xml")
	var out, progress strings.Builder
	if err := run(ctx, []string{"import", "--db", db, "--site", "gazette", "--format", "disqus", "--dry-run", file}, &out, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would import (dry run: nothing written) 2 articles and 6 comments") {
		t.Errorf("dry run said:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "--db", db, "--site", "gazette", "--format", "disqus", file}, &out, &progress); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"imported 2 articles and 6 comments", "skipped 3 items:", "comment 1007: its thread is not in the file"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import said:\n%s\nwant %q", out.String(), want)
		}
	}
	if !strings.Contains(progress.String(), "comments read") {
		t.Errorf("no progress lines on a non-terminal: %q", progress.String())
	}
	out.Reset()
	if err := run(ctx, []string{"export", "--db", db, "--site", "gazette", "--article", "social-credit"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), `{"format": "threadline"`) || !strings.Contains(out.String(), "Lianne Abrahams") || strings.Contains(out.String(), "Orphan") {
		t.Errorf("export of one article:\n%.500s", out.String())
	}
	if err := run(ctx, []string{"import", "--db", db, "--site", "gazette", "--format", "wxr", file}, io.Discard, io.Discard); err == nil {
		t.Error("a Disqus file imported as WXR")
	}

	// The other formats, and an article made by hand, in sites of their own.
	for _, tt := range []struct {
		site, format, file, want string
	}{
		{"press", "wxr", "wordpress.xml", "imported 2 articles and 7 comments"},
		{"archive", "threadline", "threadline.json", "imported 2 articles and 7 comments"},
	} {
		if tt.format != "threadline" { // a Threadline export creates its site
			if err := run(ctx, []string{"site", "create", "--db", db, "--slug", tt.site, "--name", tt.site}, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		out.Reset()
		if err := run(ctx, []string{"import", "--db", db, "--site", tt.site, "--format", tt.format, filepath.Join("..", "..", "importer", "testdata", tt.file)}, &out, io.Discard); err != nil {
			t.Fatalf("import %s: %v", tt.format, err)
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("import %s said:\n%s\nwant %q", tt.format, out.String(), tt.want)
		}
	}
	out.Reset()
	if err := run(ctx, []string{"article", "create", "--db", db, "--site", "press", "--key", "launch", "--title", "Launch day"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"export", "--db", db, "--site", "press"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"key":"launch"`) || !strings.Contains(out.String(), `"title":"Launch day"`) {
		t.Errorf("the export lacks the article made by hand:\n%.800s", out.String())
	}
}
