// Command fanout measures live fan-out the way DESIGN.md states its target: N subscribers of one article on
// WebSocket (graphql-transport-ws), one new comment, and the time until the last subscriber has it; and the
// server's memory per idle subscriber.
//
//	go run ./tools/fanout [-bin bin/threadline] [-subscribers 1000,10000] [-rounds 20] [-db sqlite]
//
// With -cross, across servers: two servers on one database (PostgreSQL), the subscribers held on the second,
// each comment posted on the first, and for each comment the time until each subscriber has it (p50, p99, max
// over the subscribers), then the medians over the comments:
//
//	go run ./tools/fanout -cross -db postgres://USER@HOST:PORT/postgres [-subscribers 1000] [-rounds 20]
//
// The subscribers run in this process, on the same 2-core machine as the server, so their reading competes
// with its writing: the figures are an upper bound on what the server alone would take.
package main

import (
	"bufio"
	"context"
	"errors"
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
	counts := flag.String("subscribers", "", "comma-separated numbers of subscribers (default 1000,10000; with -cross, 1000)")
	rounds := flag.Int("rounds", 20, "comments posted, one at a time, for each number of subscribers")
	db := flag.String("db", "sqlite", "the database: sqlite (a new file), a new SQLite file's path, or a PostgreSQL server's URL "+
		"(postgres://USER@HOST:PORT/postgres?sslmode=disable), on which a new database is created and dropped after")
	cross := flag.Bool("cross", false, "subscribers on one server, comments posted on another, both on the -db database (PostgreSQL)")
	flag.Parse()
	if *counts == "" {
		*counts = "1000,10000"
		if *cross {
			*counts = "1000"
		}
	}
	run := single
	if *cross {
		run = crossServer
	}
	if err := run(*bin, *db, *counts, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

// single measures one server: its subscribers and the comments posted to it.
func single(bin, db, list string, rounds int) error {
	counts, err := benchserver.Counts("subscribers", list)
	if err != nil {
		return err
	}
	// All the subscribers come from this one address.
	c, err := benchserver.Start(benchserver.Options{Bin: bin, DB: db, Comments: 100,
		Args: []string{"--subscriptions-per-client", strconv.Itoa(2 * slices.Max(counts))}})
	if err != nil {
		return err
	}
	defer c.Stop()
	srv := c.Servers[0]
	fmt.Printf("Threadline %s on %s: one article, WebSocket subscribers in one process, %d comments each, one at a time\n\n", bin, c.DB.Kind, rounds)
	fmt.Printf("| subscribers | last subscriber has it, p50 | p99 | max | a subscriber has it, p50 | server memory per idle subscriber |\n")
	fmt.Printf("|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range counts {
		before, err := rss(srv.Pid())
		if err != nil {
			return err
		}
		arrivals, cancel, err := subscribeAll(srv.Base, c.ArticleID, n)
		if err != nil {
			return err
		}
		after, err := rss(srv.Pid())
		if err != nil {
			cancel()
			return err
		}
		times, err := post(srv.Base, c, n, rounds, arrivals)
		cancel()
		if err != nil {
			return err
		}
		var lasts, medians []time.Duration
		for _, t := range times {
			lasts = append(lasts, t.arrivals[n-1])
			medians = append(medians, t.arrivals[n/2])
		}
		slices.Sort(lasts)
		slices.Sort(medians)
		perSub := float64(after-before) / float64(n)
		fmt.Printf("| %d | %s | %s | %s | %s | %.1f KB |\n", n, ms(lasts[len(lasts)/2]), ms(lasts[len(lasts)*99/100]),
			ms(lasts[len(lasts)-1]), ms(medians[len(medians)/2]), perSub/1024)
	}
	return nil
}

// crossServer measures two servers on one database: subscribers on B, comments posted on A.
func crossServer(bin, db, list string, rounds int) error {
	counts, err := benchserver.Counts("subscribers", list)
	if err != nil {
		return err
	}
	if !benchserver.IsPostgres(db) {
		return errors.New("-cross needs two servers on one database, and with SQLite the servers do not share a " +
			"database (one file has one server): give -db a PostgreSQL server's URL, postgres://USER@HOST:PORT/postgres")
	}
	c, err := benchserver.Start(benchserver.Options{Bin: bin, DB: db, Comments: 100, Servers: 2,
		Args: []string{"--subscriptions-per-client", strconv.Itoa(2 * slices.Max(counts))}})
	if err != nil {
		return err
	}
	defer c.Stop()
	if !c.DB.Shared() {
		return errors.New("the servers do not share a database")
	}
	a, b := c.Servers[0], c.Servers[1]
	fmt.Printf("Threadline %s: two servers on one %s database; WebSocket subscribers of one article on server B, in one process; "+
		"%d comments posted on server A, one at a time; times from sending each comment, medians over the comments\n\n", bin, c.DB.Kind, rounds)
	fmt.Printf("| subscribers on B | posted on A, acknowledged | a subscriber on B has it, p50 | p99 | max | every delivery of every comment, p99 | max, worst comment |\n")
	fmt.Printf("|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range counts {
		arrivals, cancel, err := subscribeAll(b.Base, c.ArticleID, n)
		if err != nil {
			return err
		}
		times, err := post(a.Base, c, n, rounds, arrivals)
		cancel()
		if err != nil {
			return err
		}
		var acks, p50s, p99s, maxes, all []time.Duration
		for _, t := range times {
			all = append(all, t.arrivals...)
			acks = append(acks, t.ack)
			p50s = append(p50s, t.arrivals[n/2])
			p99s = append(p99s, t.arrivals[(n-1)*99/100])
			maxes = append(maxes, t.arrivals[n-1])
		}
		slices.Sort(all)
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %s |\n", n, ms(median(acks)), ms(median(p50s)), ms(median(p99s)), ms(median(maxes)),
			ms(all[(len(all)-1)*99/100]), ms(slices.Max(maxes)))
	}
	return nil
}

// round is one comment: when it was acknowledged and when each subscriber had it (sorted), from its sending.
type round struct {
	ack      time.Duration
	arrivals []time.Duration
}

// post posts rounds comments to base one after another, and times each one's arrival at all n subscribers.
func post(base string, c *benchserver.Cluster, n, rounds int, arrivals <-chan time.Time) ([]round, error) {
	var out []round
	for range rounds {
		start := time.Now()
		if err := benchserver.Post(base, c.Token, addComment, map[string]any{"a": c.ArticleID}, nil); err != nil {
			return nil, err
		}
		r := round{ack: time.Since(start), arrivals: make([]time.Duration, 0, n)}
		timeout := time.After(30 * time.Second)
		for len(r.arrivals) < n {
			select {
			case at := <-arrivals:
				r.arrivals = append(r.arrivals, at.Sub(start))
			case <-timeout:
				return nil, fmt.Errorf("%d subscribers: only %d had the comment after 30 s", n, len(r.arrivals))
			}
		}
		slices.Sort(r.arrivals)
		out = append(out, r)
		time.Sleep(200 * time.Millisecond)
	}
	return out, nil
}

// subscribeAll subscribes n clients to the article on base, 64 connecting at a time, and waits 2 s for every
// subscription to be registered and the server's heap to settle. Each event's arrival is sent on the channel;
// cancel closes the connections.
func subscribeAll(base, articleID string, n int) (<-chan time.Time, context.CancelFunc, error) {
	arrivals := make(chan time.Time, n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := subscribe(ctx, base, articleID)
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
		cancel()
		return nil, nil, err
	default:
	}
	time.Sleep(2 * time.Second)
	return arrivals, cancel, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// subscribe opens a WebSocket and subscribes to the article.
func subscribe(ctx context.Context, base, articleID string) (*websocket.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, strings.Replace(base, "http", "ws", 1)+"/graphql",
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
		"payload": map[string]any{"query": subscription, "variables": map[string]any{"a": articleID}}})
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
