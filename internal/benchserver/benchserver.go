// Package benchserver runs the release binary on a generated thread, for the tools that measure it
// (tools/loadtest, tools/fanout): the same database, the same flags, loopback only.
package benchserver

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// Server is a running Threadline binary.
type Server struct {
	Base      string // http://127.0.0.1:PORT
	ArticleID string // the generated article's global ID
	Token     string // a reader's token
	Dir       string // a temporary directory, removed by Stop
	cmd       *exec.Cmd
}

// Start generates a thread of comments (a quarter top-level, each with 3 replies) and a reader in a new
// database, and serves it with the binary, rate limits off: the tools measure the paths, not the limits.
func Start(bin string, comments int, args ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "threadline-bench-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir}
	dbPath := filepath.Join(dir, "bench.db")
	if s.Token, err = prepare(dbPath, comments); err != nil {
		s.Stop()
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--db", dbPath, "--sample=false", "--log-level", "WARN", "--rate-limit=false"}, args...)...)
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		s.Stop()
		return nil, err
	}
	s.Base = "http://" + addr
	if err := waitHealthy(s.Base + "/healthz"); err != nil {
		s.Stop()
		return nil, err
	}
	if s.ArticleID, err = s.articleID(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Pid returns the server's process ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop ends the server and removes its files.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		_ = s.cmd.Wait()
	}
	os.RemoveAll(s.Dir)
}

// Post sends a GraphQL request with the reader's token and decodes the response's data into out (if not nil).
func (s *Server) Post(query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, s.Base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Token)
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
		return err
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("graphql: %s", r.Errors[0].Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Data, out)
}

// prepare generates the thread and a reader, and returns the reader's token.
func prepare(dbPath string, comments int) (string, error) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return "", err
	}
	defer db.Close()
	svc := thread.NewService(db)
	start := time.Now()
	if _, err := threadgen.Generate(ctx, svc, max(comments/4, 1), 3); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "generated %d comments in %s\n", comments, time.Since(start).Round(time.Millisecond))
	_, token, err := svc.CreateReader(ctx, threadgen.Site, "Load tester")
	return token, err
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(url string) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not become healthy", url)
}

func (s *Server) articleID() (string, error) {
	var out struct{ Article struct{ ID string } }
	if err := s.Post(`{ article(site: "`+threadgen.Site+`", key: "generated") { id } }`, nil, &out); err != nil || out.Article.ID == "" {
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
