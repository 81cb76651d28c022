package poolmetrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/threadline/threadline/internal/pgtest"
	"github.com/threadline/threadline/store/postgres/poolmetrics"
)

// TestCollectorShowsThePool: a pool of at most 2 connections, both held, and a third acquire that waits until
// one comes back and one that gives up: the figures say so, under the names and label /metrics shows.
func TestCollectorShowsThePool(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	registry := prometheus.NewRegistry()
	registry.MustRegister(poolmetrics.New(pool, "postgres"))

	a, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := pool.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third acquire of a full pool: %v", err)
	}
	for name, want := range map[string]float64{
		"pgxpool_acquired_connections": 2, "pgxpool_idle_connections": 0, "pgxpool_max_connections": 2,
		"pgxpool_total_connections": 2, "pgxpool_acquires_total": 2, "pgxpool_canceled_acquires_total": 1,
	} {
		if got := gather(t, registry)[name]; got != want {
			t.Errorf("both held: %s = %v, want %v", name, got, want)
		}
	}

	waited := make(chan error, 1)
	go func() {
		c, err := pool.Acquire(ctx)
		if err == nil {
			c.Release()
		}
		waited <- err
	}()
	time.Sleep(50 * time.Millisecond)
	a.Release()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	b.Release()
	got := gather(t, registry)
	for name, want := range map[string]float64{
		"pgxpool_acquired_connections": 0, "pgxpool_idle_connections": 2, "pgxpool_acquires_total": 3,
		// The first two waited for a connection to be opened, the third for one to come back.
		"pgxpool_wait_count_total": 3, "pgxpool_new_connections_total": 2,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	if got["pgxpool_wait_duration_seconds_total"] < 0.04 || got["pgxpool_acquire_duration_seconds_total"] < got["pgxpool_wait_duration_seconds_total"] {
		t.Errorf("waited %vs of %vs acquiring; the third acquire waited about 0.05 s",
			got["pgxpool_wait_duration_seconds_total"], got["pgxpool_acquire_duration_seconds_total"])
	}
}

// gather returns the registry's figures by name, each labelled db_name="postgres".
func gather(t *testing.T, registry *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		if l := m.GetLabel(); len(l) != 1 || l[0].GetName() != "db_name" || l[0].GetValue() != "postgres" {
			t.Errorf("%s is labelled %v", f.GetName(), l)
		}
		got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	return got
}
