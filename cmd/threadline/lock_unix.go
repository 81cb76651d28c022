//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockServe takes the lock that makes one `threadline serve` the only server of a database file: an exclusive
// flock on a file beside it. The kernel drops the lock when the process ends, however it ends (kill -9
// included), so no stale lock is ever left to clean up; the file itself stays, and means nothing unlocked.
// The lock is only for servers: the other commands (import, site, export, backup, migrate) run beside one. A
// PostgreSQL database takes no lock: any number of servers share it.
func lockServe(db string) (release func(), err error) {
	path := lockPath(db)
	// Never through a symbolic link, and only a regular file: the server may run as a user who could be made to
	// write its process ID over a file someone else pointed the lock at.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("the lock beside the database: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("the lock beside the database: %s is not a regular file", path)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		holder := "another process"
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				holder = "process " + strconv.Itoa(pid)
			}
		}
		return nil, fmt.Errorf("a threadline server (%s) already serves %s: it holds %s. One server per database "+
			"file: stop that one, or give this one another --db (import, site, export and backup may run beside it; "+
			"several servers share a postgres:// database)",
			holder, strings.TrimSuffix(path, ".lock"), path)
	}
	// The holder's process ID, for the message above and for people; the lock, not this, is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = flock(f, syscall.LOCK_UN)
		f.Close()
	}, nil
}

// flock is syscall.Flock, retried when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// lockPath is the lock file of a database: beside it, named after it. Symbolic links are resolved first, so
// that two names of one file share one lock.
func lockPath(db string) string {
	abs, err := filepath.Abs(db)
	if err != nil {
		abs = db
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	} else if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(dir, filepath.Base(abs)) // the file is not there yet: its directory may be a link
	}
	return abs + ".lock"
}
