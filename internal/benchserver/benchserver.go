// Package benchserver runs the release binary on a generated thread, for the tools that measure it
// (tools/loadtest, tools/fanout): one server or several, on SQLite or PostgreSQL, optionally behind HAProxy with
// the repository's deploy/haproxy.cfg; the same flags, loopback only. The thread is seeded with `threadline
// import`, the command an operator runs, so that whatever database `--db` takes, the tools take too.
package benchserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/threadline/threadline/internal/threadgen"
)

// Options say what to start.
type Options struct {
	Bin      string // the Threadline binary
	DB       string // "sqlite" (a new file), a new file's path, or a PostgreSQL server's URL (a new database on it); see NewDatabase
	Comments int    // comments in the generated thread (a quarter top-level, each with 3 replies)
	Servers  int    // how many `threadline serve` processes; 0 means 1
	// Proxy is the HAProxy configuration to put in front of the servers (deploy/haproxy.cfg), its addresses
	// replaced by the servers' (see ProxyConfig); empty for none. The servers then run with --trust-proxy.
	Proxy string
	Args  []string // more `threadline serve` flags, for every server
}

// Cluster is a generated thread served by one or more Threadline processes.
type Cluster struct {
	Base      string    // where clients go: http://127.0.0.1:PORT of HAProxy when it is in front, else of the first server
	Servers   []*Server // the servers, each also reachable at its own Base
	ArticleID string    // the generated article's global ID
	Token     string    // a reader's token, valid on every server
	Dir       string    // a temporary directory, removed by Stop
	DB        *Database // the first server's database (with SQLite, each server has its own copy)
	Proxied   bool      // HAProxy is in front
	proxy     *process
}

// Server is one running `threadline serve`.
type Server struct {
	Base string // http://127.0.0.1:PORT
	DB   string // what its --db is
	proc *process
}

// Pid returns the server's process ID.
func (s *Server) Pid() int { return s.proc.cmd.Process.Pid }

// ProxyPid returns HAProxy's process ID, 0 when there is none in front.
func (c *Cluster) ProxyPid() int {
	if c.proxy == nil {
		return 0
	}
	return c.proxy.cmd.Process.Pid
}

// Start generates the thread, seeds a new database with it, starts the servers (and HAProxy) and creates a
// reader. Rate limits are off: the tools measure the paths, not the limits.
//
// With SQLite, which one server serves at a time, each further server gets its own copy of the first one's
// file, made with `threadline backup`: reads compare, but a write on one server is not seen by the others.
// With PostgreSQL, every server serves the same database.
func Start(opts Options) (_ *Cluster, err error) {
	if opts.Servers < 1 {
		opts.Servers = 1
	}
	dir, err := os.MkdirTemp("", "threadline-bench-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if c.DB, err = NewDatabase(opts.DB, dir); err != nil {
		return nil, err
	}
	if err := seed(opts.Bin, c.DB.URL, opts.Comments, dir); err != nil {
		return nil, err
	}
	args := append([]string{"--sample=false", "--log-level", "WARN", "--rate-limit=false"}, opts.Args...)
	if opts.Proxy != "" {
		args = append(args, "--trust-proxy")
	}
	for i := range opts.Servers {
		db := c.DB.URL
		if i > 0 && !c.DB.Shared() {
			db = filepath.Join(dir, fmt.Sprintf("bench-%d.db", i+1))
			if out, err := exec.Command(opts.Bin, "backup", "--db", c.DB.URL, db).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("threadline backup: %v\n%s", err, out)
			}
		}
		s, err := startServer(opts.Bin, db, args)
		if err != nil {
			return nil, err
		}
		c.Servers = append(c.Servers, s)
		if i == 0 {
			// The reader exists before the copies are made, so that its token is valid on every server.
			if c.Token, err = createReader(s.Base); err != nil {
				return nil, err
			}
		}
	}
	c.Base = c.Servers[0].Base
	if opts.Proxy != "" {
		if err := c.startProxy(opts.Proxy); err != nil {
			return nil, err
		}
	}
	if c.ArticleID, err = c.articleID(); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop ends HAProxy and the servers, drops a PostgreSQL database the cluster created and removes its files.
func (c *Cluster) Stop() {
	if c.proxy != nil {
		c.proxy.stop()
	}
	for _, s := range c.Servers {
		s.proc.stop()
	}
	if c.DB != nil {
		if err := c.DB.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "benchserver:", err)
		}
	}
	os.RemoveAll(c.Dir)
}

// Post sends a GraphQL request to the cluster's Base with the reader's token.
func (c *Cluster) Post(query string, vars map[string]any, out any) error {
	return Post(c.Base, c.Token, query, vars, out)
}

// Post sends a GraphQL request to base with token (none if empty) and decodes the response's data into out
// (if not nil).
func Post(base, token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("%s: %w", resp.Status, err)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("graphql: %s", r.Errors[0].Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

// seed writes the generated thread as a Threadline export and imports it with the binary.
func seed(bin, db string, comments int, dir string) error {
	file := filepath.Join(dir, "thread.json")
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	err = threadgen.WriteThreadline(f, max(comments/4, 1), 3)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := exec.Command(bin, "import", "--db", db, "--site", threadgen.Site, "--format", "threadline", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("threadline import: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "generated %d comments and imported them in %s\n", max(comments/4, 1)*4, time.Since(start).Round(time.Millisecond))
	return os.Remove(file)
}

func startServer(bin, db string, args []string) (*Server, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Base: "http://" + addr, DB: db}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--db", db}, args...)...)
	cmd.Stderr = os.Stderr
	if s.proc, err = startProcess(cmd); err != nil {
		return nil, err
	}
	if err := s.proc.waitReady(s.Base + "/readyz"); err != nil {
		s.proc.stop()
		return nil, err
	}
	return s, nil
}

// process is a started command, waited for as soon as it ends, so that an early exit is seen.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the command has ended
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop interrupts the process, as a person would, and waits for it to end: 15 s, then it is killed.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitReady waits until url answers 200, or the process ends, or 30 seconds pass.
func (p *process) waitReady(url string) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s ended (%v) before %s answered", filepath.Base(p.cmd.Path), p.cmd.ProcessState, url)
		default:
		}
	}
	return fmt.Errorf("%s did not answer 200 within 30 s", url)
}

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func createReader(base string) (string, error) {
	var out struct{ CreateReader struct{ Token string } }
	err := Post(base, "", `mutation { createReader(input: {site: "`+threadgen.Site+`", displayName: "Load tester"}) { token } }`, nil, &out)
	if err == nil && out.CreateReader.Token == "" {
		err = errors.New("no token")
	}
	if err != nil {
		return "", fmt.Errorf("createReader: %w", err)
	}
	return out.CreateReader.Token, nil
}

func (c *Cluster) articleID() (string, error) {
	var out struct{ Article struct{ ID string } }
	if err := c.Post(`{ article(site: "`+threadgen.Site+`", key: "`+threadgen.Article+`") { id } }`, nil, &out); err != nil || out.Article.ID == "" {
		return "", fmt.Errorf("no article ID (%v)", err)
	}
	return out.Article.ID, nil
}

// Counts parses a flag's comma-separated list of positive numbers ("1000,10000"); name names the flag in errors.
func Counts(name, list string) ([]int, error) {
	var out []int
	for _, field := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-%s: %q is not a positive number", name, field)
		}
		out = append(out, n)
	}
	return out, nil
}
