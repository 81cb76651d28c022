package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadline/threadline/store"
	"github.com/threadline/threadline/thread"
)

// processEnv marks a run of this test binary as `threadline` itself: TestMain runs main with the arguments
// after "--" instead of the tests. The tests use it for a server in a process of its own, one they can kill.
const processEnv = "THREADLINE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(processEnv) == "1" {
		os.Unsetenv(processEnv)
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"threadline"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// threadlineCommand returns `threadline args...` as a process of its own, killed if it outlives ctx.
func threadlineCommand(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{"--"}, args...)...)
	cmd.Env = append(os.Environ(), processEnv+"=1")
	return cmd
}

// startServeProcess starts `threadline serve` in a process of its own and waits until it answers.
func startServeProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := threadlineCommand(context.Background(), t, append([]string{"serve", "--addr", addr, "--log-level", "WARN"}, args...)...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, addr
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("serve exited before serving: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer in time\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// anonymous posts a query without credentials, as any reader of a page does, and returns its data and whether
// the response cache answered it.
func anonymous(t *testing.T, addr, query string) (data string, hit bool) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	resp, err := http.Post("http://"+addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, b)
	}
	return string(b), resp.Header.Get("Cache-Status") == "threadline; hit"
}

// TestServeSeesOtherProcessesWrites: what `threadline import`, `threadline site` or any other process commits
// to the file a server serves shows in the server's answers, cached ones included, within a second. (The probe
// saw commentCount stay at its cached value for ever.)
func TestServeSeesOtherProcessesWrites(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "shared.db")
	s := startServe(t, "--db", db, "--rate-limit=false")

	// The other process: its own store on the same file, as the commands open it.
	other, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherSvc := thread.NewService(other)
	article, err := otherSvc.Article(ctx, "demo", "social-credit")
	if err != nil {
		t.Fatal(err)
	}
	disqus := filepath.Join("..", "..", "importer", "testdata", "disqus.xml")

	tests := []struct {
		name   string
		query  string
		change func() error
		want   string // in the data once the change shows
	}{
		{
			name:  "a comment through another store",
			query: `{ article(site: "demo", key: "social-credit") { commentCount } }`,
			change: func() error {
				r, _, err := otherSvc.CreateReader(ctx, "demo", "Elsewhere")
				if err != nil {
					return err
				}
				_, err = otherSvc.AddComment(thread.WithViewer(ctx, r), thread.NewComment{ArticleID: article.ID, Body: "from another process"})
				return err
			},
			want: `"commentCount":46`,
		},
		{
			name:  "site update",
			query: `{ site(slug: "demo") { name } }`,
			change: func() error {
				return run(ctx, []string{"site", "update", "--db", db, "--slug", "demo", "--name", "Renamed"}, io.Discard, io.Discard)
			},
			want: `"name":"Renamed"`,
		},
		{
			name:  "site create",
			query: `{ site(slug: "gazette") { name } }`,
			change: func() error {
				return run(ctx, []string{"site", "create", "--db", db, "--slug", "gazette", "--name", "Gazette"}, io.Discard, io.Discard)
			},
			want: `"name":"Gazette"`,
		},
		{
			name:  "import",
			query: `{ article(site: "gazette", key: "social-credit") { commentCount } }`,
			change: func() error {
				return run(ctx, []string{"import", "--db", db, "--site", "gazette", "--format", "disqus", disqus}, io.Discard, io.Discard)
			},
			want: `"commentCount":`,
		},
		{
			name:  "plain SQL",
			query: `{ article(site: "demo", key: "social-credit") { title } }`,
			change: func() error {
				return rawExec(ctx, db, "UPDATE articles SET title = 'Edited by hand' WHERE id = ?", article.ID)
			},
			want: `"title":"Edited by hand"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anonymous(t, s.addr, tt.query)
			before, hit := anonymous(t, s.addr, tt.query)
			if !hit {
				t.Fatalf("the second anonymous read was not a cache hit: the test would prove nothing\n%s", before)
			}
			if strings.Contains(before, tt.want) {
				t.Fatalf("already %s before the change: %s", tt.want, before)
			}
			if err := tt.change(); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			for {
				got, _ := anonymous(t, s.addr, tt.query)
				if strings.Contains(got, tt.want) {
					t.Logf("shown after %v", time.Since(start))
					break
				}
				if time.Since(start) > time.Second {
					t.Fatalf("a second after another process's commit the server still answers %s, want %s", got, tt.want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// rawExec runs one statement through a connection of its own, as the sqlite3 shell would.
func rawExec(ctx context.Context, db, query string, args ...any) error {
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Pools()["write"].QueryRowContext(ctx, query+" RETURNING id", args...).Scan(new(int64))
}

// TestServeRefusesASecondServer: a second `threadline serve` on a file one already serves stops at once and
// says why, naming the file, whatever name it is given by (a symbolic link too); the other commands still run
// beside the server; and once the first is gone, even killed with SIGKILL, a server starts again.
func TestServeRefusesASecondServer(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "one.db")
	first, firstAddr := startServeProcess(t, "--db", db)
	real, err := filepath.EvalSymlinks(db)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{db, link, "./" + filepath.Base(db)} {
		t.Run("refused "+name, func(t *testing.T) {
			t.Chdir(dir)
			addr := freeAddr(t)
			start := time.Now()
			var stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(ctx, 15*time.Second) // a server that is not refused serves on
			defer cancel()
			cmd := threadlineCommand(ctx, t, "serve", "--db", name, "--addr", addr)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("the second serve: %v, want exit status 2\n%s", err, stderr.String())
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("the refusal took %v", took)
			}
			msg := stderr.String()
			for _, want := range []string{"already serves " + real, "process " + strconv.Itoa(first.Process.Pid), real + ".lock", "--db"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the refusal lacks %q:\n%s", want, msg)
				}
			}
			if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
				t.Error("the refused server listens")
			}
		})
	}
	// The same, through run in this process: flock locks conflict between two opens of the file, in one process
	// too.
	if err := runBriefly(ctx, "serve", "--db", db, "--addr", freeAddr(t)); err == nil || !strings.Contains(err.Error(), "already serves "+real) {
		t.Errorf("runServe beside a server: %v", err)
	}

	// The other commands run beside the server.
	for _, args := range [][]string{
		{"migrate", "--db", db},
		{"site", "list", "--db", db},
		{"site", "create", "--db", db, "--slug", "beside", "--name", "Beside"},
		{"export", "--db", db, "--site", "demo"},
		{"backup", "--db", db, filepath.Join(dir, "copy.db")},
	} {
		if err := run(ctx, args, io.Discard, io.Discard); err != nil {
			t.Errorf("%s beside a server: %v", strings.Join(args, " "), err)
		}
	}
	if resp, err := http.Get("http://" + firstAddr + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the first server stopped serving: %v", err)
	}

	// SIGKILL leaves no stale lock: the kernel drops it with the process.
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	next := startServe(t, "--db", db)
	if n := next.commentCount(t); n != 45 {
		t.Errorf("after the kill: commentCount = %d", n)
	}
	// While it serves, it is the one that refuses.
	if err := runBriefly(ctx, "serve", "--db", link, "--addr", freeAddr(t)); err == nil ||
		!strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("serve beside the restarted server: %v", err)
	}
	// A clean stop releases it too.
	if err := next.stop(t); err != nil {
		t.Fatal(err)
	}
	startServe(t, "--db", db).stop(t)
}

// runBriefly runs a command in this process for at most 15 seconds: a serve that is not refused stops then.
func runBriefly(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := run(ctx, args, io.Discard, io.Discard)
	if ctx.Err() != nil {
		return fmt.Errorf("still running after 15 s (%v)", err)
	}
	return err
}

// TestServeOwnWritesKeepTheCache: the watcher must not take this server's own writes for another process's,
// or every write would empty the whole response cache: under a stream of comments, an answer no write touches
// stays cached.
func TestServeOwnWritesKeepTheCache(t *testing.T) {
	clearEnv(t)
	db := filepath.Join(t.TempDir(), "busy.db")
	s := startServe(t, "--db", db, "--rate-limit=false")
	var article struct{ Article struct{ ID string } }
	s.query(t, `{ article(site: "demo", key: "social-credit") { id } }`, &article)

	var posted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var reader struct {
				CreateReader struct{ Token string }
			}
			s.query(t, fmt.Sprintf(`mutation { createReader(input: {site: "demo", displayName: "w%d"}) { token } }`, i), &reader)
			body, _ := json.Marshal(map[string]any{
				"query":     `mutation($a: ID!) { addComment(input: {articleId: $a, body: "busy"}) { comment { id } } }`,
				"variables": map[string]any{"a": article.Article.ID},
			})
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+reader.CreateReader.Token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) {
					t.Errorf("addComment: %d %s", resp.StatusCode, b)
					return
				}
				posted.Add(1)
			}
		})
	}

	// A query no comment touches: only a change to everything (a new site, another process's commit) empties it.
	const query = `{ site(slug: "demo") { name } }`
	var reads, misses int
	for start := time.Now(); time.Since(start) < 2*time.Second; reads++ {
		if _, hit := anonymous(t, s.addr, query); !hit {
			misses++
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d comments posted; %d reads, %d misses", posted.Load(), reads, misses)
	if posted.Load() < 50 {
		t.Fatalf("only %d comments posted: the test did not write enough to tell", posted.Load())
	}
	if misses > 1 { // the first read fills the cache
		t.Errorf("%d of %d reads missed the cache while only this server wrote: its own writes flush the cache", misses, reads)
	}
}
