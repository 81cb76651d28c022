// Package poolmetrics shows a pgxpool connection pool in Prometheus's format, as the go_sql_* metrics of
// client_golang's DBStatsCollector show a database/sql pool: how many connections are acquired, idle, open
// and allowed, and how often and how long acquiring one waited, read from the pool's Stat at each scrape.
package poolmetrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// collector reads a pool's Stat at each scrape.
type collector struct {
	pool *pgxpool.Pool

	acquired, idle, constructing, total, max     *prometheus.Desc
	acquires, acquireSeconds, waits, waitSeconds *prometheus.Desc
	canceled, opened, lifetimeClosed, idleClosed *prometheus.Desc
}

// New returns a collector of pool's figures, labelled db_name=name.
func New(pool *pgxpool.Pool, name string) prometheus.Collector {
	desc := func(metric, help string) *prometheus.Desc {
		return prometheus.NewDesc("pgxpool_"+metric, help, nil, prometheus.Labels{"db_name": name})
	}
	return &collector{
		pool:           pool,
		acquired:       desc("acquired_connections", "Connections in use now."),
		idle:           desc("idle_connections", "Connections idle now."),
		constructing:   desc("constructing_connections", "Connections being opened now."),
		total:          desc("total_connections", "Connections open or being opened now: acquired, idle and constructing."),
		max:            desc("max_connections", "The most connections the pool opens."),
		acquires:       desc("acquires_total", "Connections acquired from the pool."),
		acquireSeconds: desc("acquire_duration_seconds_total", "Time spent acquiring connections, waits included."),
		waits:          desc("wait_count_total", "Acquires that waited for a connection to be opened or released, none being idle."),
		waitSeconds:    desc("wait_duration_seconds_total", "Time acquires waited for a connection to be opened or released, none being idle."),
		canceled:       desc("canceled_acquires_total", "Acquires given up (their context ended) before they got a connection."),
		opened:         desc("new_connections_total", "Connections opened."),
		lifetimeClosed: desc("max_lifetime_closed_total", "Connections closed for reaching their maximum lifetime."),
		idleClosed:     desc("max_idle_closed_total", "Connections closed for being idle too long."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.constructing, c.total, c.max, c.acquires,
		c.acquireSeconds, c.waits, c.waitSeconds, c.canceled, c.opened, c.lifetimeClosed, c.idleClosed} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.waits, float64(s.EmptyAcquireCount()))
	counter(c.waitSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.opened, float64(s.NewConnsCount()))
	counter(c.lifetimeClosed, float64(s.MaxLifetimeDestroyCount()))
	counter(c.idleClosed, float64(s.MaxIdleDestroyCount()))
}
