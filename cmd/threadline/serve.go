package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/threadline/threadline/graph"
	"github.com/threadline/threadline/seed"
	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/store"
	"github.com/threadline/threadline/store/postgres/poolmetrics"
	"github.com/threadline/threadline/store/sqlite"
	"github.com/threadline/threadline/thread"
)

// serveConfig is everything `threadline serve` can be told.
type serveConfig struct {
	Addr      string
	DemoAddr  string
	DB        string
	Sample    bool
	RateLimit bool
	// TrustProxy reads clients' addresses from X-Forwarded-For, for rate limits.
	TrustProxy bool
	// Live subscriptions: how many per WebSocket connection and per client address, and when an idle
	// connection is closed.
	SubscriptionsPerConnection int
	SubscriptionsPerClient     int
	SubscriptionIdle           time.Duration
	LogFormat                  string
	LogLevel                   slog.Level
	// Drain is how long a server told to stop by SIGTERM keeps serving with /readyz at 503, so that a load
	// balancer stops sending it requests before it closes its connections.
	Drain time.Duration
}

func (c *serveConfig) validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q: want HOST:PORT or :PORT", c.Addr)
	}
	if c.DemoAddr != "" {
		if _, _, err := net.SplitHostPort(c.DemoAddr); err != nil {
			return fmt.Errorf("--demo-addr %q: want HOST:PORT or :PORT", c.DemoAddr)
		}
	}
	if err := store.Check(c.DB); err != nil {
		return err
	}
	if c.Drain < 0 {
		return fmt.Errorf("--drain %s: want 0 or more", c.Drain)
	}
	if c.SubscriptionsPerConnection < 1 || c.SubscriptionsPerClient < 1 || c.SubscriptionIdle <= 0 {
		return errors.New("--subscriptions-per-connection, --subscriptions-per-client and --subscription-idle must be positive")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	return nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := serveConfig{}
	fs := flag.NewFlagSet("threadline serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&cfg.DemoAddr, "demo-addr", "", "address of a demo publisher page embedding the sample thread, on its own origin; none when empty")
	fs.StringVar(&cfg.DB, "db", "threadline.db", dbUsage+"; migrated at start. Any number of servers may share a PostgreSQL database; a SQLite file has one server")
	fs.BoolVar(&cfg.RateLimit, "rate-limit", true, "limit how fast one reader and one client address may write (counts kept in memory only)")
	fs.BoolVar(&cfg.TrustProxy, "trust-proxy", false, "behind a reverse proxy: rate-limit by the client address it puts last in X-Forwarded-For")
	fs.IntVar(&cfg.SubscriptionsPerConnection, "subscriptions-per-connection", graph.DefaultSubscriptionsPerConnection, "live subscriptions one WebSocket connection may hold")
	fs.IntVar(&cfg.SubscriptionsPerClient, "subscriptions-per-client", graph.DefaultSubscriptionsPerClient, "live subscriptions one client address may hold")
	fs.DurationVar(&cfg.SubscriptionIdle, "subscription-idle", graph.DefaultIdleTimeout, "close a WebSocket connection that has held no subscription this long")
	fs.BoolVar(&cfg.Sample, "sample", true, "load the sample article into the demo site if it is not there")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&cfg.LogLevel, "log-level", slog.LevelInfo, "lowest level logged: DEBUG, INFO, WARN or ERROR")
	fs.DurationVar(&cfg.Drain, "drain", defaultDrain, "on SIGTERM, keep serving this long with /readyz answering 503 before closing connections, "+
		"so that a load balancer checking /readyz (every 2 s, 2 failures: deploy/haproxy.cfg) moves traffic away first; 0 stops at once. "+
		"Ctrl-C (SIGINT) or a second signal stops without waiting")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}

	log := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	tuneGC()
	db, closeDB, err := openServeDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer closeDB()
	svc := thread.NewService(db)
	if cfg.RateLimit {
		svc.SetRateLimits(thread.DefaultRateLimits)
	}
	if cfg.Sample {
		created, err := seed.Load(ctx, svc)
		if err != nil {
			return fmt.Errorf("load the sample: %w", err)
		}
		if created {
			log.Info("loaded the sample article", "site", seed.SiteSlug, "article", seed.ArticleKey)
		}
	}

	// Ready until the server starts shutting down, so that a load balancer stops sending traffic first.
	var draining atomic.Bool
	ready := func(ctx context.Context) error {
		if draining.Load() {
			return errors.New("shutting down")
		}
		return db.Ping(ctx)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	opts := server.Options{Log: log, Health: db.Ping, Ready: ready, TrustProxy: cfg.TrustProxy,
		SubscriptionsPerConnection: cfg.SubscriptionsPerConnection, SubscriptionsPerClient: cfg.SubscriptionsPerClient,
		IdleTimeout: cfg.SubscriptionIdle}
	if db.SQLite != nil {
		opts.Pools = db.SQLite.Pools()
	}
	if db.Postgres != nil {
		opts.Collectors = append(opts.Collectors, poolmetrics.New(db.Postgres.Pool(), "postgres"))
		// One of any number of servers on the database: live events and cache invalidations come from its log.
		node, err := joinCluster(ctx, db.Postgres, svc, log, &opts, func() error {
			if draining.Load() {
				return errors.New("shutting down")
			}
			return nil
		})
		if err != nil {
			ln.Close()
			return err
		}
		node.Start()
		defer node.Stop() // before the database closes
	}
	srv := &http.Server{
		Handler:           server.New(svc, opts),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Started once the cache is registered (server.New) and before the first request; stopped before the
	// database is closed.
	stopWatching, err := watchOtherWriters(db, svc, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopWatching()
	log.Info("threadline is serving", "url", "http://"+displayAddr(ln.Addr()), "graphql", "/graphql", "db", db.String())

	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	if cfg.DemoAddr != "" {
		demoLn, err := net.Listen("tcp", cfg.DemoAddr)
		if err != nil {
			ln.Close()
			return err
		}
		_, apiPort, _ := net.SplitHostPort(ln.Addr().String())
		demo := &http.Server{
			Handler:           server.DemoPage(svc, log, seed.SiteSlug, seed.ArticleKey, apiPort),
			ReadHeaderTimeout: 5 * time.Second,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          srv.ErrorLog,
		}
		servers, listeners = append(servers, demo), append(listeners, demoLn)
		log.Info("demo publisher page", "url", "http://"+displayAddr(demoLn.Addr()))
	}

	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Listening for a second signal before /readyz turns: one sent on seeing the 503 is never missed.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	draining.Store(true)
	if drain := drainFor(ctx, cfg.Drain); drain > 0 {
		log.Info("draining: /readyz answers 503, requests are still served; a second signal stops now", "for", drain)
		t := time.NewTimer(drain)
		select {
		case <-t.C:
		case <-again:
			t.Stop()
		}
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Shutdown(shutdownCtx))
	}
	return errors.Join(errs...)
}

// openServeDB opens the database serve runs on; closeDB closes it. A SQLite file has one server: a second one's
// cache would never hear of the first one's writes, so its lock is taken before the file is opened and released
// after it is closed. A PostgreSQL database takes any number of servers.
func openServeDB(ctx context.Context, setting string) (db *store.DB, closeDB func(), err error) {
	unlock := func() {}
	if !store.IsPostgres(setting) {
		if unlock, err = lockServe(setting); err != nil {
			return nil, nil, err
		}
	}
	db, err = store.Open(ctx, setting)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		unlock()
	}, nil
}

// watchOtherWriters makes what other processes commit to the database reach svc's caches. On SQLite, the
// commands run beside the server (import, site) and other clients write to the same file: each of their commits
// empties the response cache, within a quarter of a second.
func watchOtherWriters(db *store.DB, svc *thread.Service, log *slog.Logger) (stop func(), err error) {
	if db.SQLite == nil {
		return func() {}, nil
	}
	var lastWarned time.Time // the polls fail together: one line a minute says it
	watcher, err := db.SQLite.Watch(sqlite.DefaultWatchInterval, svc.ExternalChange, func(err error) {
		if time.Since(lastWarned) >= time.Minute {
			lastWarned = time.Now()
			log.Warn("cannot tell whether other processes changed the database; cached answers may be stale until it answers", "err", err)
		}
	})
	if err != nil {
		return nil, err
	}
	return watcher.Stop, nil
}

// defaultDrain outlasts a load balancer's verdict: HAProxy, checking /readyz every 2 s and taking a server out
// after 2 failures (deploy/haproxy.cfg), stops sending within 4 s of the first 503.
const defaultDrain = 5 * time.Second

// drainFor returns how long serve drains before it stops: drain when SIGTERM stopped it, the signal of
// process managers (systemd, Docker, Kubernetes) that may have a load balancer to tell; none for Ctrl-C at a
// terminal or for a caller's cancel.
func drainFor(ctx context.Context, drain time.Duration) time.Duration {
	var sig stopSignal
	if errors.As(context.Cause(ctx), &sig) && sig.Signal == syscall.SIGTERM {
		return drain
	}
	return 0
}

// maxHeaderBytes bounds a request's line and headers (net/http's default is 1 MiB). The longest is a GraphQL GET,
// whose URL the API takes up to 72 KiB (a 32 KiB query, escaped); the largest header Threadline reads is
// Authorization, a JWT of a few hundred bytes.
const maxHeaderBytes = 128 << 10

// displayAddr turns a listening address into one a person can open: ":8080" listens everywhere, so show
// localhost.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// defaultGCPercent is the GOGC Threadline runs with unless GOGC is set. Its live heap is small (tens of MB,
// most of it the response cache), while a large page allocates megabytes that die at once: collecting at 5×
// the live heap instead of 2× raised the signed-in first view's throughput by 46% (BENCHMARKS.md). On a
// small machine, set GOGC=100, or GOMEMLIMIT, which the runtime honours either way.
const defaultGCPercent = 400

func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
