package benchserver

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/threadline/threadline/internal/pgtest"
)

func TestProxyConfig(t *testing.T) {
	template := "global\n\tmaxconn 9000\nfrontend f\n\tbind :8080\n\t# bind :443 ssl crt x.pem\n\tdefault_backend b\n" +
		"backend b\n\tdefault-server check\n\tserver threadline1 127.0.0.1:8081 check inter 2s\n\tserver threadline2 127.0.0.1:8082 check inter 2s\n"
	for _, tc := range []struct {
		name     string
		template string
		servers  []string
		want     string // "" when an error is wanted
	}{
		{"two servers become three", template, []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"},
			"global\n\tmaxconn 9000\nfrontend f\n\tbind 127.0.0.1:9\n\t# bind :443 ssl crt x.pem\n\tdefault_backend b\n" +
				"backend b\n\tdefault-server check\n\tserver threadline1 127.0.0.1:1 check inter 2s\n" +
				"\tserver threadline2 127.0.0.1:2 check inter 2s\n\tserver threadline3 127.0.0.1:3 check inter 2s\n"},
		{"one server", template, []string{"127.0.0.1:1"},
			"global\n\tmaxconn 9000\nfrontend f\n\tbind 127.0.0.1:9\n\t# bind :443 ssl crt x.pem\n\tdefault_backend b\n" +
				"backend b\n\tdefault-server check\n\tserver threadline1 127.0.0.1:1 check inter 2s\n"},
		{"bind options kept", "frontend f\n  bind :80 v4v6\nbackend b\n  server s 10.0.0.1:80\n", []string{"127.0.0.1:1"},
			"frontend f\n  bind 127.0.0.1:9 v4v6\nbackend b\n  server threadline1 127.0.0.1:1\n"},
		{"no server line", "frontend f\n\tbind :8080\n", []string{"127.0.0.1:1"}, ""},
		{"no bind line", "backend b\n\tserver s 127.0.0.1:1\n", []string{"127.0.0.1:1"}, ""},
	} {
		got, err := ProxyConfig(tc.template, "127.0.0.1:9", tc.servers)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s: no error; got\n%s", tc.name, got)
		case tc.want != "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case got != tc.want:
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}

// The repository's configuration, with the addresses of three servers, is one HAProxy accepts.
func TestProxyConfigOfTheRepositorysFile(t *testing.T) {
	template, err := os.ReadFile("../../deploy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ProxyConfig(string(template), "127.0.0.1:18080", []string{"127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bind 127.0.0.1:18080\n", "server threadline3 127.0.0.1:18083\n", "option httpchk GET /readyz\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("the configuration lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Count(cfg, "\tserver ") != 3 {
		t.Errorf("want 3 server lines:\n%s", cfg)
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Log("haproxy is not installed: its check of the configuration was skipped")
		return
	}
	file := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", file).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
}

func TestNewDatabase(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("an operator's data"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec, wantURL, wantErr string
	}{
		{"sqlite", filepath.Join(dir, "bench.db"), ""},
		{filepath.Join(dir, "new.db"), filepath.Join(dir, "new.db"), ""},
		{existing, "", "it exists already"},
		{"mysql://u@h/db", "", "want sqlite, a new SQLite file's path, or a PostgreSQL server's URL"},
		{"", "", "want sqlite"},
		{"postgres://nobody@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5", "", "PostgreSQL at postgres://nobody@127.0.0.1:1/postgres"},
	} {
		db, err := NewDatabase(tc.spec, dir)
		if tc.wantErr == "" {
			if err != nil {
				t.Fatalf("%s: %v", tc.spec, err)
			}
			if db.URL != tc.wantURL || db.Kind != SQLite || db.Shared() || db.Close() != nil {
				t.Fatalf("%s: %+v", tc.spec, db)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("%q: got %v, want an error with %q", tc.spec, err, tc.wantErr)
		}
	}
}

func TestRedacted(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgresql://u@h/db":                           "postgresql://u@h/db",
		"/tmp/bench.db":                                 "/tmp/bench.db",
	} {
		if got := Redacted(in); got != want {
			t.Errorf("Redacted(%q) = %q, want %q", in, got, want)
		}
	}
}

// On PostgreSQL, a measurement gets a database of its own, with durable commits, dropped when it is closed.
func TestNewDatabaseOnPostgreSQL(t *testing.T) {
	server := pgtest.URL(t)
	db, err := NewDatabase(server, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Kind != PostgreSQL || !db.Shared() || db.URL == server {
		t.Fatalf("%+v", db)
	}
	if d := db.Durability(); !strings.Contains(d, "synchronous_commit=on") || !strings.Contains(d, "fsync=on") {
		t.Fatalf("durability: %s", d)
	}
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	exists := func() bool {
		conn, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if !exists() {
		t.Fatalf("database %s was not created", name)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if exists() {
		t.Fatalf("database %s is still there after Close", name)
	}
}
