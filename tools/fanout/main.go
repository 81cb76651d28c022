// Command fanout measures live fan-out the way DESIGN.md states its target: N subscribers of one article on
// WebSocket (graphql-transport-ws), one new comment, and the time until the last subscriber has it; and the
// server's memory per idle subscriber.
//
//	go run ./tools/fanout [-bin bin/threadline] [-subscribers 1000,10000] [-rounds 20]
//
// The subscribers run in this process, on the same 2-core machine as the server, so their reading competes
// with its writing: the figures are an upper bound on what the server alone would take.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/threadline/threadline/internal/benchserver"
)

// subscription is what the widget asks for each event.
const subscription = `subscription($a: ID!) { commentEvents(articleId: $a) { cursor kind commentId parentId
  comment { id bodyHTML createdAt editedAt status rule depth likeCount replyCount author { id displayName } } } }`

const addComment = `mutation($a: ID!) { addComment(input: {articleId: $a, body: "A comment for every subscriber."}) { comment { id } } }`

func main() {
	bin := flag.String("bin", "bin/threadline", "the Threadline binary to measure")
	counts := flag.String("subscribers", "1000,10000", "comma-separated numbers of subscribers")
	rounds := flag.Int("rounds", 20, "comments posted, one at a time, for each number of subscribers")
	flag.Parse()
	if err := run(*bin, *counts, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

func run(bin, list string, rounds int) error {
	counts, err := benchserver.Counts("subscribers", list)
	if err != nil {
		return err
	}
	// All the subscribers come from this one address.
	srv, err := benchserver.Start(bin, 100, "--subscriptions-per-client", strconv.Itoa(2*slices.Max(counts)))
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Printf("Threadline %s: one article, WebSocket subscribers in one process, %d comments each, one at a time\n\n", bin, rounds)
	fmt.Printf("| subscribers | last subscriber has it, p50 | p99 | max | a subscriber has it, p50 | server memory per idle subscriber |\n")
	fmt.Printf("|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range counts {
		if err := measure(srv, n, rounds); err != nil {
			return err
		}
	}
	return nil
}

// measure subscribes n clients, then posts rounds comments one after another and times their arrival.
func measure(srv *benchserver.Server, n, rounds int) error {
	before, err := rss(srv.Pid())
	if err != nil {
		return err
	}
	arrivals := make(chan time.Time, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64) // connect 64 at a time
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := subscribe(ctx, srv)
			<-sem
			if err != nil {
				errs <- err
				return
			}
			go read(ctx, conn, arrivals)
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	time.Sleep(2 * time.Second) // every subscription registered, the server's heap settled
	after, err := rss(srv.Pid())
	if err != nil {
		return err
	}

	var lasts, medians []time.Duration
	for range rounds {
		start := time.Now()
		if err := srv.Post(addComment, map[string]any{"a": srv.ArticleID}, nil); err != nil {
			return err
		}
		got := make([]time.Duration, 0, n)
		timeout := time.After(30 * time.Second)
		for len(got) < n {
			select {
			case at := <-arrivals:
				got = append(got, at.Sub(start))
			case <-timeout:
				return fmt.Errorf("%d subscribers: only %d had the comment after 30 s", n, len(got))
			}
		}
		slices.Sort(got)
		lasts = append(lasts, got[n-1])
		medians = append(medians, got[n/2])
		time.Sleep(200 * time.Millisecond)
	}
	slices.Sort(lasts)
	slices.Sort(medians)
	perSub := float64(after-before) / float64(n)
	fmt.Printf("| %d | %s | %s | %s | %s | %.1f KB |\n", n, ms(lasts[len(lasts)/2]), ms(lasts[len(lasts)*99/100]),
		ms(lasts[len(lasts)-1]), ms(medians[len(medians)/2]), perSub/1024)
	return nil
}

// subscribe opens a WebSocket and subscribes to the article.
func subscribe(ctx context.Context, srv *benchserver.Server) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, strings.Replace(srv.Base, "http", "ws", 1)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	if err := wsjson.Write(dctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		return nil, err
	}
	var ack struct{ Type string }
	if err := wsjson.Read(dctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("connection_init: %v %s", err, ack.Type)
	}
	err = wsjson.Write(dctx, conn, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": subscription, "variables": map[string]any{"a": srv.ArticleID}}})
	return conn, err
}

// read notes when each event arrives, and answers pings.
func read(ctx context.Context, conn *websocket.Conn, arrivals chan<- time.Time) {
	defer conn.CloseNow()
	for {
		var m struct{ Type string }
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			return
		}
		switch m.Type {
		case "next":
			arrivals <- time.Now()
		case "ping":
			_ = wsjson.Write(ctx, conn, map[string]string{"type": "pong"})
		}
	}
}

// rss returns a process's resident memory in bytes, from /proc.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}
