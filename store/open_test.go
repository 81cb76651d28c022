package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/thread"
)

func TestRedact(t *testing.T) {
	tests := []struct{ setting, want string }{
		{"threadline.db", "threadline.db"},
		{"/var/lib/threadline/threadline.db", "/var/lib/threadline/threadline.db"},
		{"postgres://app@db.example/threadline", "postgres://app@db.example/threadline"},
		{"postgres://app:s3cret@db.example:5433/threadline?sslmode=require", "postgres://app:xxxxx@db.example:5433/threadline?sslmode=require"},
		{"postgresql://app:s3cret@db.example/threadline", "postgresql://app:xxxxx@db.example/threadline"},
		{"postgres://app:p%40ss@db.example/threadline", "postgres://app:xxxxx@db.example/threadline"},
		{"postgres://app@db.example/threadline?password=s3cret&sslmode=verify-full", "postgres://app@db.example/threadline?password=xxxxx&sslmode=verify-full"},
		{"postgres://app@db.example/threadline?sslpassword=s3cret", "postgres://app@db.example/threadline?sslpassword=xxxxx"},
		{"postgres://app:s3cret@h1:5432,h2:5432/threadline", "postgres://app:xxxxx@h1:5432,h2:5432/threadline"},
		{"postgres://app:s3cret@[::1/threadline", "postgres://(a URL that does not parse)"},
		{"postgres://app@db/x?password=%zz", "postgres://(a URL that does not parse)"},
		{"postgres:app:s3cret@db/x", "postgres:…"},
		{"POSTGRES://app:s3cret@db/x", "POSTGRES:…"},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			got := Redact(tt.setting)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.setting, got, tt.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("Redact(%q) shows the password", tt.setting)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		setting string
		wantErr string // "" for accepted
	}{
		{"threadline.db", ""},
		{"./data/x.db", ""},
		{"postgres://app@db/x", ""},
		{"postgresql://app@db/x", ""},
		{"", "no database"},
		{"postgres:app:s3cret@db/x", "starts with postgres://"},
		{"Postgres://app:s3cret@db/x", "starts with postgres://"},
		{"postgresql:/db", "starts with postgres://"},
		{"mysql://app:s3cret@db/x", "mysql:// is not a database"},
		{"sqlite://x.db", "sqlite:// is not a database"},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			err := Check(tt.setting)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Check(%q) = %v, want nil", tt.setting, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Check(%q) = %v, want an error saying %q", tt.setting, err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Errorf("Check(%q) shows the password: %v", tt.setting, err)
			}
		})
	}
}

// TestOpenPicksTheEngine: a path opens SQLite, a URL PostgreSQL; each with the capabilities of its own engine
// only, and a working thread.Store behind either.
func TestOpenPicksTheEngine(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		engine  string
		setting func(t *testing.T) string
	}{
		{"SQLite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "threadline.db") }},
		{"PostgreSQL", func(t *testing.T) string { return pgtest.URL(t) }},
	} {
		t.Run(tt.engine, func(t *testing.T) {
			setting := tt.setting(t)
			db, err := Open(ctx, setting)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.Engine() != tt.engine || (db.SQLite != nil) != (tt.engine == "SQLite") || (db.Postgres != nil) != (tt.engine == "PostgreSQL") {
				t.Errorf("engine %s, SQLite %v, Postgres %v; want %s alone", db.Engine(), db.SQLite != nil, db.Postgres != nil, tt.engine)
			}
			if db.String() != Redact(setting) {
				t.Errorf("String() = %q, want %q", db.String(), Redact(setting))
			}
			if err := db.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
			svc := thread.NewService(db)
			if _, _, _, err := svc.CreateSite(ctx, "blog", thread.SiteSettings{Name: "Blog"}); err != nil {
				t.Fatal(err)
			}
			if sites, err := svc.ListSites(ctx); err != nil || len(sites) != 1 {
				t.Errorf("ListSites = %d sites, %v; want the one created", len(sites), err)
			}
		})
	}
}

// TestOpenUnreachableSaysWhereInOneLine: a server that is not there is named by host and port, on one line,
// without the password, quickly.
func TestOpenUnreachableSaysWhereInOneLine(t *testing.T) {
	for _, setting := range []string{
		"postgres://nobody:s3cret@127.0.0.1:1/x",
		"postgresql://nobody@127.0.0.1:1/x?password=s3cret&sslmode=disable",
		"postgres://nobody:s3cret@no-such-host.invalid/x",
	} {
		t.Run(Redact(setting), func(t *testing.T) {
			start := time.Now()
			db, err := Open(context.Background(), setting)
			if err == nil {
				db.Close()
				t.Fatal("opened a database that is not there")
			}
			msg := err.Error()
			host := "127.0.0.1:1"
			if strings.Contains(setting, "invalid") {
				host = "no-such-host.invalid:5432"
			}
			if !strings.Contains(msg, host) || strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %s, without the password", msg, host)
			}
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}

func TestScrubRemovesPasswordsFromAnyMessage(t *testing.T) {
	for _, tt := range []struct{ setting, msg string }{
		{"postgres://app:s3cret@db/x", "cannot connect as app:s3cret"},
		{"postgres://app:p%40ss@db/x", "user app password p@ss refused"},
		{"postgres://app:p%40ss@db/x", "in the URL: p%40ss"},
		{"postgres://app@db/x?password=s3cret", "password=s3cret"},
		{"postgres://app:s3cret@[::1/x", "bad URL postgres://app:s3cret@[::1/x"},
	} {
		err := scrub(errors.New(tt.msg), tt.setting)
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "p@ss") || strings.Contains(err.Error(), "p%40ss") {
			t.Errorf("scrub(%q) = %q", tt.msg, err)
		}
		if errors.Unwrap(err) != nil {
			t.Errorf("scrub(%q) unwraps to the message with the password", tt.msg)
		}
	}
	clean := errors.New("PostgreSQL at db:5432 is unreachable")
	if got := scrub(clean, "postgres://app:s3cret@db/x"); got != clean {
		t.Errorf("a clean error was rewrapped: %v", got)
	}
}
