package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/store"
	"github.com/threadline/threadline/thread"
)

// eachStore runs test on a new SQLite file and on a new PostgreSQL database (skipped when there is no server:
// see internal/pgtest), each given as --db takes it.
func eachStore(t *testing.T, test func(t *testing.T, db string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "threadline.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.URL(t)) })
}

// threadline runs the real binary (this test binary as `threadline`, see TestMain) and returns what it wrote
// and how it ended; a run longer than a minute is killed.
func threadline(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := threadlineCommand(ctx, t, args...)
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// withPassword returns the URL with a password in it. The tests' server trusts local connections, so the
// password is never checked: it is there to be hidden.
func withPassword(t *testing.T, dbURL, password string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// TestMigrateOnPostgres: migrate makes a usable, empty PostgreSQL database, twice over, and says so without
// the URL's password.
func TestMigrateOnPostgres(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	db := withPassword(t, pgtest.URL(t), "s3cret-pw")
	for i := range 2 {
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"migrate", "--db", db}, &stdout, &stderr); err != nil {
			t.Fatalf("run #%d: %v\n%s", i+1, err, stderr.String())
		}
		if want := store.Redact(db) + ": schema up to date\n"; stdout.String() != want {
			t.Errorf("run #%d: stdout = %q, want %q", i+1, stdout.String(), want)
		}
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := thread.NewService(st)
	if _, err := svc.Site(ctx, "demo"); thread.ErrorCode(err) != thread.CodeNotFound {
		t.Errorf("site demo after migrate: %v, want NOT_FOUND", err)
	}
}

// TestBackupRefusesPostgres: backup copies a SQLite file; given a PostgreSQL URL it says, in one sentence,
// to use pg_dump, and exits non-zero without connecting or writing anything.
func TestBackupRefusesPostgres(t *testing.T) {
	out := filepath.Join(t.TempDir(), "copy.db")
	// Port 1: nothing listens there, so an attempt to connect would say "unreachable" instead.
	stdout, stderr, err := threadline(t, nil, "backup", "--db", "postgres://app:s3cret@127.0.0.1:1/threadline", out)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("backup of a PostgreSQL database: %v, want a non-zero exit\n%s", err, stderr)
	}
	line := strings.TrimSuffix(stderr, "\n")
	if !strings.Contains(line, "pg_dump") || strings.Contains(line, "\n") || strings.Contains(line, "unreachable") || strings.Contains(line, "s3cret") {
		t.Errorf("stderr = %q, want one line naming pg_dump", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q", stdout)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written (stat: %v)", err)
	}
}

// silentServer accepts connections and never answers, as a host behind a firewall that drops packets might.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestUnreachablePostgresAtStart: every command given a PostgreSQL server it cannot reach exits non-zero with
// one line that names the host and port, without the password or a stack, quickly: at once when the
// connection is refused, after the connect timeout (the URL's connect_timeout, at most 10 s) when the host
// never answers.
func TestUnreachablePostgresAtStart(t *testing.T) {
	refused := "postgres://nobody:s3cret@127.0.0.1:1/x"
	silent := silentServer(t)
	disqus := filepath.Join("..", "..", "importer", "testdata", "disqus.xml")
	tests := []struct {
		name  string
		host  string
		bound time.Duration // generous: the point is that it ends
		args  []string
	}{
		{"serve", "127.0.0.1:1", 30 * time.Second, []string{"serve", "--addr", "127.0.0.1:0", "--db", refused}},
		{"serve from the environment", "127.0.0.1:1", 30 * time.Second, []string{"serve", "--addr", "127.0.0.1:0"}},
		{"migrate", "127.0.0.1:1", 30 * time.Second, []string{"migrate", "--db", refused}},
		{"site list", "127.0.0.1:1", 30 * time.Second, []string{"site", "list", "--db", refused}},
		{"site create", "127.0.0.1:1", 30 * time.Second, []string{"site", "create", "--db", refused, "--slug", "blog", "--name", "Blog"}},
		{"article create", "127.0.0.1:1", 30 * time.Second, []string{"article", "create", "--db", refused, "--site", "blog", "--key", "k"}},
		{"import", "127.0.0.1:1", 30 * time.Second, []string{"import", "--db", refused, "--site", "blog", "--format", "disqus", disqus}},
		{"export", "127.0.0.1:1", 30 * time.Second, []string{"export", "--db", refused, "--site", "blog"}},
		{"serve, a host that never answers, connect_timeout=1", silent, 20 * time.Second,
			[]string{"serve", "--addr", "127.0.0.1:0", "--db", "postgres://nobody:s3cret@" + silent + "/x?connect_timeout=1"}},
		{"serve, a host that never answers, the default timeout", silent, 40 * time.Second,
			[]string{"serve", "--addr", "127.0.0.1:0", "--db", "postgres://nobody:s3cret@" + silent + "/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), tt.bound)
			defer cancel()
			cmd := threadlineCommand(ctx, t, tt.args...)
			cmd.Env = append(cmd.Env, "THREADLINE_DB="+refused) // flags win where given
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("still running after %s\n%s", tt.bound, stderr.String())
			}
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("exit: %v, want non-zero\n%s", err, stderr.String())
			}
			line := strings.TrimSuffix(stderr.String(), "\n")
			if strings.Contains(line, "\n") || !strings.Contains(line, tt.host) || !strings.Contains(line, "PostgreSQL") ||
				strings.Contains(line, "s3cret") || strings.Contains(line, "goroutine") {
				t.Errorf("stderr = %q: want one line naming PostgreSQL at %s, without the password", stderr.String(), tt.host)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q", stdout.String())
			}
			t.Logf("%s: %s", time.Since(start).Round(time.Millisecond), line)
		})
	}
}

// TestPasswordIsNeverShown: every command run on a PostgreSQL URL with a password, serve's log included,
// writes the URL with the password hidden, if at all.
func TestPasswordIsNeverShown(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	const password = "s3cret-pw"
	db := withPassword(t, pgtest.URL(t), password)
	disqus := filepath.Join("..", "..", "importer", "testdata", "disqus.xml")
	var all bytes.Buffer
	for _, args := range [][]string{
		{"migrate"},
		{"site", "create", "--slug", "gazette", "--name", "Gazette"},
		{"site", "list"},
		{"site", "update", "--slug", "gazette", "--premoderation"},
		{"site", "rotate-secret", "--slug", "gazette"},
		{"site", "add-moderator", "--slug", "gazette", "--name", "Mo"},
		{"article", "create", "--site", "gazette", "--key", "launch"},
		{"import", "--site", "gazette", "--format", "disqus", disqus},
		{"export", "--site", "gazette"},
		{"backup", filepath.Join(t.TempDir(), "x.db")},
		{"site", "create", "--slug", "gazette", "--name", "Again"}, // fails: exists
	} {
		err := run(ctx, append(args, "--db", db), &all, &all)
		fmt.Fprintln(&all, err)
	}
	s := startServe(t, "--db", db, "--log-level", "DEBUG")
	s.commentCount(t)
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	all.WriteString(s.stderr.String() + s.stdout.String())
	if strings.Contains(all.String(), password) {
		t.Errorf("the password was shown:\n%s", all.String())
	}
	if shown := `db=` + strconv.Quote(store.Redact(db)); !strings.Contains(s.stderr.String(), shown) || !strings.Contains(shown, ":xxxxx@") {
		t.Errorf("serve's log lacks %q:\n%s", shown, s.stderr.String())
	}
}

// TestServersShareAPostgresDatabase: the lock that keeps a SQLite file to one server is not taken on
// PostgreSQL, where any number of servers share the database; the sample is loaded once.
func TestServersShareAPostgresDatabase(t *testing.T) {
	clearEnv(t)
	db := pgtest.URL(t)
	_, a, _ := startServeProcess(t, "--db", db)
	_, b, _ := startServeProcess(t, "--db", db)
	for _, addr := range []string{a, b} {
		data, _ := anonymous(t, addr, `{ article(site: "demo", key: "social-credit") { commentCount } }`)
		if !strings.Contains(data, `"commentCount":45`) {
			t.Errorf("%s answered %s, want the sample's 45 comments, once", addr, data)
		}
	}
}

// history writes into the database what a site gathers besides comments: readers' comments and likes, an
// edit, a deletion, reports, a removal, an appeal and its answer, an approval, a suspension and a locked
// article, on top of the sample.
func history(t *testing.T, db string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := thread.NewService(st)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = seed.Load(ctx, svc)
	must(err)
	key, err := svc.AddModeratorKey(ctx, seed.SiteSlug, "Mo")
	must(err)
	mod, err := svc.Authenticate(ctx, key)
	must(err)
	article, err := svc.Article(ctx, seed.SiteSlug, seed.ArticleKey)
	must(err)
	var readers []context.Context
	for _, name := range []string{"Ada", "Bo", "Cy", "Di"} {
		r, _, err := svc.CreateReader(ctx, seed.SiteSlug, name)
		must(err)
		readers = append(readers, thread.WithViewer(ctx, r))
	}
	var mine []*thread.Comment
	for i, as := range readers {
		c, err := svc.AddComment(as, thread.NewComment{ArticleID: article.ID, Body: fmt.Sprintf("Comment %d, with a [link](https://example.com/%d).", i, i)})
		must(err)
		mine = append(mine, c)
		for _, liker := range readers[:i+1] {
			_, err := svc.LikeComment(liker, c.ID)
			must(err)
		}
	}
	reply, err := svc.AddComment(readers[1], thread.NewComment{ArticleID: article.ID, ParentID: mine[0].ID, Body: "A reply."})
	must(err)
	_, err = svc.LikeComment(readers[0], reply.ID)
	must(err)
	_, err = svc.EditComment(readers[1], reply.ID, "A reply, edited.")
	must(err)
	_, err = svc.DeleteComment(readers[0], mine[0].ID) // it has a reply: a placeholder stays
	must(err)
	for _, as := range readers[:3] {
		_, err := svc.ReportComment(as, mine[3].ID, "Spam")
		must(err)
	}
	_, err = svc.ApproveComment(mod, mine[3].ID, "Not spam.")
	must(err)
	_, err = svc.RemoveComment(mod, mine[2].ID, "Harassment", "Say it kindly.")
	must(err)
	_, err = svc.AppealModeration(readers[2], mine[2].ID, "It was a joke.")
	must(err)
	_, _, err = svc.AnswerAppeal(mod, mine[2].ID, thread.DecisionUpheld, "It did not read as one.")
	must(err)
	_, err = svc.SuspendReader(mod, mine[1].AuthorID, 3, "Repeated spam.")
	must(err)
	_, err = svc.SetArticleLocked(mod, article.ID, true, "Closed for the night.")
	must(err)
}

// TestMovingASite: a site moves from SQLite to PostgreSQL, and back, with `threadline export` and `threadline
// import --format threadline`: the export of the copy is the export of the original, byte for byte, with the
// sample, readers' likes and the whole moderation history.
func TestMovingASite(t *testing.T) {
	clearEnv(t)
	lite := filepath.Join(t.TempDir(), "threadline.db")
	pg := pgtest.URL(t)
	history(t, lite)

	export := func(db string) string {
		t.Helper()
		out, stderr, err := threadline(t, nil, "export", "--db", db, "--site", seed.SiteSlug)
		if err != nil {
			t.Fatalf("export from %s: %v\n%s", store.Redact(db), err, stderr)
		}
		return out
	}
	move := func(from, to string) {
		t.Helper()
		first := export(from)
		out, stderr, err := threadline(t, strings.NewReader(first), "import", "--db", to, "--site", seed.SiteSlug, "--format", "threadline", "/dev/stdin")
		if err != nil {
			t.Fatalf("import into %s: %v\n%s%s", store.Redact(to), err, out, stderr)
		}
		if !strings.Contains(out, "moderation actions and appeals") || strings.Contains(out, "skipped") {
			t.Errorf("import said:\n%s", out)
		}
		if second := export(to); second != first {
			a, b := strings.Split(first, "\n"), strings.Split(second, "\n")
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] {
					t.Fatalf("line %d differs:\nfrom %s\nto   %s", i+1, a[i], b[i])
				}
			}
			t.Fatalf("%d lines, then %d", len(a), len(b))
		}
		for _, want := range []string{`"likes":4`, `"action":"answer_appeal"`, `"action":"suspend`, `"appeals"`, `"locked":true`, `"edited`} {
			if !strings.Contains(first, want) {
				t.Errorf("the export lacks %s", want)
			}
		}
		t.Logf("%d bytes alike", len(first))
	}
	t.Run("SQLite to PostgreSQL", func(t *testing.T) { move(lite, pg) })
	t.Run("PostgreSQL to SQLite", func(t *testing.T) { move(pg, filepath.Join(t.TempDir(), "back.db")) })
}
