//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeRefusesASecondServer: a second `threadline serve` on a file one already serves stops at once and
// says why, naming the file, whatever name it is given by (a symbolic link too); the other commands still run
// beside the server; and once the first is gone, even killed with SIGKILL, a server starts again.
func TestServeRefusesASecondServer(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "one.db")
	firstPID, firstAddr, killFirst := startServeProcess(t, "--db", db)
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
			for _, want := range []string{"already serves " + real, "process " + strconv.Itoa(firstPID), real + ".lock", "--db"} {
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
	killFirst()
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

// TestServeLockIsNeverFollowed: whatever sits where the lock file goes (a link to another file, a directory, a
// pipe), serve refuses to start, and writes nothing through it.
func TestServeLockIsNeverFollowed(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name  string
		plant func(t *testing.T, lock, victim string)
	}{
		{"a link to another file", func(t *testing.T, lock, victim string) {
			if err := os.Symlink(victim, lock); err != nil {
				t.Fatal(err)
			}
		}},
		{"a dangling link", func(t *testing.T, lock, victim string) {
			if err := os.Symlink(victim+".new", lock); err != nil {
				t.Fatal(err)
			}
		}},
		{"a directory", func(t *testing.T, lock, _ string) {
			if err := os.Mkdir(lock, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"a named pipe", func(t *testing.T, lock, _ string) {
			if err := syscall.Mkfifo(lock, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db, victim := filepath.Join(dir, "t.db"), filepath.Join(dir, "precious")
			if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
				t.Fatal(err)
			}
			tt.plant(t, db+".lock", victim)
			err := runBriefly(context.Background(), "serve", "--db", db, "--addr", freeAddr(t))
			if err == nil || !strings.Contains(err.Error(), "lock beside the database") {
				t.Errorf("serve = %v, want a refusal about the lock", err)
			}
			if b, err := os.ReadFile(victim); err != nil || string(b) != "precious" {
				t.Errorf("the file the lock pointed at now holds %q (%v)", b, err)
			}
			if _, err := os.Stat(victim + ".new"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was created through the link (stat: %v)", err)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was opened (stat: %v)", err)
			}
		})
	}
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
