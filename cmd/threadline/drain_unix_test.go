//go:build unix

package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveProcess is `threadline serve` in a process of its own, to be stopped by a signal.
type serveProcess struct {
	addr   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	ended  chan struct{} // closed when the process has ended, err set
	err    error
}

func startServeWithSignals(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	addr := freeAddr(t)
	p := &serveProcess{addr: addr, stderr: &syncBuffer{}, ended: make(chan struct{})}
	p.cmd = threadlineCommand(context.Background(), t, append([]string{"serve", "--addr", addr}, args...)...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.ended) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.ended
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if p.done() || time.Now().After(deadline) {
			t.Fatalf("serve did not become ready\n%s", p.stderr.String())
		}
	}
}

func (p *serveProcess) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// done reports whether the process has ended.
func (p *serveProcess) done() bool {
	select {
	case <-p.ended:
		return true
	default:
		return false
	}
}

// wait waits for the process to end, at most within, and returns how it ended.
func (p *serveProcess) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case <-p.ended:
		return p.err
	case <-time.After(within):
		t.Fatalf("serve still running %s after the signal\n%s", within, p.stderr.String())
		return nil
	}
}

// get sends GET path through client and returns the status and whether the connection was one kept alive.
func get(t *testing.T, client *http.Client, url string) (status int, reused bool) {
	t.Helper()
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, reused
}

// TestServeDrainsOnSIGTERM: told to stop by SIGTERM, serve answers /readyz with 503 at once, so that a load
// balancer takes it out, and goes on serving every other request, on connections kept alive and on new ones,
// for --drain; a second signal ends the drain. Ctrl-C (SIGINT) stops without draining.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	clearEnv(t)
	db := filepath.Join(t.TempDir(), "threadline.db")
	query := "/graphql?query=" + strings.ReplaceAll(`{ article(site: "demo", key: "social-credit") { commentCount } }`, " ", "%20")

	t.Run("drains until a second SIGTERM", func(t *testing.T) {
		p := startServeWithSignals(t, "--db", db, "--drain", "10m")
		base := "http://" + p.addr
		kept := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}} // a balancer's pooled connection
		if status, _ := get(t, kept, base+query); status != http.StatusOK {
			t.Fatalf("before: %d", status)
		}
		p.signal(t, syscall.SIGTERM)
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, _ := get(t, kept, base+"/readyz")
			if status == http.StatusServiceUnavailable {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz still answers %d after SIGTERM", status)
			}
			time.Sleep(10 * time.Millisecond)
		}
		fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for i := range 3 {
			if status, reused := get(t, kept, base+query); status != http.StatusOK || !reused {
				t.Errorf("draining, on the kept connection: status %d, reused %v; want 200 on the same connection", status, reused)
			}
			if status, _ := get(t, fresh, base+query); status != http.StatusOK {
				t.Errorf("draining, on a new connection: status %d, want 200", status)
			}
			if status, _ := get(t, fresh, base+"/healthz"); status != http.StatusOK {
				t.Errorf("draining: /healthz %d, want 200: the process is alive", status)
			}
			if status, _ := get(t, fresh, base+"/readyz"); status != http.StatusServiceUnavailable {
				t.Errorf("draining: /readyz %d, want 503", status)
			}
			if p.done() {
				t.Fatalf("serve stopped during its drain (round %d)", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
		p.signal(t, syscall.SIGTERM)
		if err := p.wait(t, 20*time.Second); err != nil {
			t.Errorf("exit: %v, want 0\n%s", err, p.stderr.String())
		}
		if log := p.stderr.String(); !strings.Contains(log, "draining") || !strings.Contains(log, "shutting down") {
			t.Errorf("the log does not say it drained, then shut down:\n%s", log)
		}
	})

	t.Run("the drain ends by itself", func(t *testing.T) {
		p := startServeWithSignals(t, "--db", db, "--drain", "1s")
		p.signal(t, syscall.SIGTERM)
		if err := p.wait(t, 30*time.Second); err != nil {
			t.Errorf("exit: %v, want 0\n%s", err, p.stderr.String())
		}
		if !strings.Contains(p.stderr.String(), "draining") {
			t.Errorf("the log does not say it drained:\n%s", p.stderr.String())
		}
	})

	t.Run("Ctrl-C does not drain", func(t *testing.T) {
		p := startServeWithSignals(t, "--db", db, "--drain", "10m")
		p.signal(t, os.Interrupt)
		if err := p.wait(t, 20*time.Second); err != nil {
			t.Errorf("exit: %v, want 0\n%s", err, p.stderr.String())
		}
		if strings.Contains(p.stderr.String(), "draining") {
			t.Errorf("Ctrl-C drained:\n%s", p.stderr.String())
		}
	})

	t.Run("--drain 0 stops at once", func(t *testing.T) {
		p := startServeWithSignals(t, "--db", db, "--drain", "0")
		p.signal(t, syscall.SIGTERM)
		if err := p.wait(t, 20*time.Second); err != nil {
			t.Errorf("exit: %v, want 0\n%s", err, p.stderr.String())
		}
		if strings.Contains(p.stderr.String(), "draining") {
			t.Errorf("--drain 0 drained:\n%s", p.stderr.String())
		}
	})
}
