package main

import (
	"context"
	"log/slog"

	"github.com/threadline/threadline/server"
	"github.com/threadline/threadline/server/cluster"
	"github.com/threadline/threadline/store/postgres"
	"github.com/threadline/threadline/thread"
)

// joinCluster makes a server on a PostgreSQL database one of any number on it: its live bus is fed by its
// follower of the database's event log, which also empties its response cache of what any server changed
// (and while the follower is behind, the cache answers only when the database cannot);
// /healthz pings the database (within a second) and /readyz also says 503 while the log is out of reach. It
// sets opts and returns the node, whose follower Start runs and Stop ends (before the database closes).
// draining is the server's own reason not to be ready (nil: none).
func joinCluster(ctx context.Context, pg *postgres.DB, svc *thread.Service, log *slog.Logger, opts *server.Options,
	draining func() error) (*cluster.Node, error) {
	node, err := cluster.New(ctx, pg, svc, cluster.Options{Log: log, SubscriberBuffer: opts.SubscriberBuffer})
	if err != nil {
		return nil, err
	}
	opts.Bus, opts.Health, opts.CacheInDoubt = node.Bus, node.Health, node.Behind
	opts.Ready = func(ctx context.Context) error {
		if err := draining(); err != nil {
			return err
		}
		return node.Ready(ctx)
	}
	return node, nil
}
