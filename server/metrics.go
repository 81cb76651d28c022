package server

import (
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/threadline/threadline/live"
)

// metrics are what /metrics shows operators, in Prometheus's format. Nothing in them identifies a reader: no
// address, no token, no article or comment, only routes, operation names and error codes.
type metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	operations *prometheus.CounterVec
	errors     *prometheus.CounterVec

	mu    sync.Mutex
	names map[string]bool // operation names seen, so that clients cannot grow the label set without end
}

// maxOperationNames bounds the operation names /metrics tells apart; the rest count as "other".
const maxOperationNames = 200

func newMetrics(bus live.Bus, pools map[string]*sql.DB) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "threadline_http_requests_total", Help: "HTTP requests, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "threadline_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route (streams of live events left out).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "threadline_graphql_operations_total", Help: "GraphQL operations, by name and type.",
		}, []string{"name", "type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "threadline_graphql_errors_total", Help: "GraphQL errors, by extensions.code.",
		}, []string{"code"}),
		names: map[string]bool{},
	}
	m.registry.MustRegister(m.requests, m.duration, m.operations, m.errors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, pool := range pools {
		m.registry.MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	if stats, ok := bus.(interface{ Stats() (int, int64) }); ok {
		m.registry.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "threadline_live_subscribers", Help: "Live subscriptions open now.",
			}, func() float64 { open, _ := stats.Stats(); return float64(open) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "threadline_live_dropped_total", Help: "Live subscribers dropped for falling behind.",
			}, func() float64 { _, dropped := stats.Stats(); return float64(dropped) }),
		)
	}
	return m
}

// handler serves /metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// request records an answered request; route is the pattern that matched ("" for none).
func (m *metrics) request(r *http.Request, status int, took time.Duration) {
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	if !streaming(r) {
		m.duration.WithLabelValues(route).Observe(took.Seconds())
	}
}

// Operation and Error implement graph.Observer.
func (m *metrics) Operation(name, kind string) {
	if name == "" {
		name = "anonymous"
	}
	m.mu.Lock()
	if !m.names[name] {
		if len(m.names) >= maxOperationNames {
			name = "other"
		} else {
			m.names[name] = true
		}
	}
	m.mu.Unlock()
	m.operations.WithLabelValues(name, kind).Inc()
}

func (m *metrics) Error(code string) { m.errors.WithLabelValues(code).Inc() }
