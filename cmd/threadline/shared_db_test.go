package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threadline/threadline/store/sqlite"
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

// startServeProcess starts `threadline serve` in a process of its own and waits until it answers. kill ends
// it with SIGKILL (Unix) and waits for it; the cleanup does that too.
func startServeProcess(t *testing.T, args ...string) (pid int, addr string, kill func()) {
	t.Helper()
	addr = freeAddr(t)
	cmd := threadlineCommand(context.Background(), t, append([]string{"serve", "--addr", addr, "--log-level", "WARN"}, args...)...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	kill = sync.OnceFunc(func() {
		cmd.Process.Kill()
		<-exited
	})
	t.Cleanup(kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd.Process.Pid, addr, kill
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
	other, err := sqlite.Open(ctx, db)
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
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Pools()["write"].QueryRowContext(ctx, query+" RETURNING id", args...).Scan(new(int64))
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
