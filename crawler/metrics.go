package crawler

import (
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fedilens/fedilens/internal/httpclient"
)

type metrics struct {
	requests       *prometheus.CounterVec
	outcomes       *prometheus.CounterVec
	hosts          *prometheus.CounterVec
	skipped        *prometheus.CounterVec
	discovered     prometheus.Counter
	queue          prometheus.Gauge
	inFlightHosts  prometheus.Gauge
	politenessWait prometheus.Counter
	retryAfter     prometheus.Counter
	hostsByStatus  *prometheus.GaugeVec
	notModified    prometheus.Counter
	postAccess     *prometheus.CounterVec
	total          atomic.Int64
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedilens_crawler_requests_total", Help: "Requests sent by the crawler, by HTTP status (or error kind).",
		}, []string{"status"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedilens_crawler_host_visits_total", Help: "Host visits by outcome.",
		}, []string{"status"}),
		hosts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedilens_crawler_snapshots_total", Help: "Instance snapshots taken, by software.",
		}, []string{"software"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedilens_crawler_posts_skipped_total", Help: "Posts and accounts not stored, by reason (consent rule, not public, forgotten, ...).",
		}, []string{"reason"}),
		discovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedilens_crawler_hosts_discovered_total", Help: "Hosts discovered through peer lists.",
		}),
		queue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedilens_crawler_queue_hosts", Help: "Hosts waiting to be visited in the current pass.",
		}),
		inFlightHosts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fedilens_crawler_hosts_in_flight", Help: "Hosts being visited now.",
		}),
		politenessWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedilens_crawler_politeness_wait_seconds_total", Help: "Time spent waiting between requests to one host (gap, Crawl-delay, Retry-After).",
		}),
		retryAfter: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedilens_crawler_retry_after_total", Help: "429/503 answers whose Retry-After was waited out before retrying.",
		}),
		hostsByStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "fedilens_crawler_hosts", Help: "Known hosts by the status of their latest visit (pending: not visited yet).",
		}, []string{"status"}),
		notModified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fedilens_crawler_nodeinfo_not_modified_total", Help: "Conditional NodeInfo requests answered 304 Not Modified.",
		}),
		postAccess: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fedilens_crawler_post_visits_total", Help: "Posts crawls of a host, by outcome (ok, signature_required, disallowed, private, ...).",
		}, []string{"access"}),
	}
	if reg != nil {
		reg.MustRegister(m.notModified, m.postAccess)
		reg.MustRegister(m.requests, m.outcomes, m.hosts, m.skipped, m.discovered, m.queue, m.inFlightHosts, m.politenessWait, m.retryAfter, m.hostsByStatus)
	}
	return m
}

func (m *metrics) observeRequest(resp *fetchResponse, err error) {
	m.total.Add(1)
	label := "error"
	switch {
	case err == nil:
		label = strconv.Itoa(resp.Status)
	case errors.Is(err, httpclient.ErrForbiddenAddress):
		label = "forbidden_address"
	case errors.Is(err, httpclient.ErrBodyTooLarge):
		label = "body_too_large"
	}
	m.requests.WithLabelValues(label).Inc()
}

func (m *metrics) requestCount() int64 { return m.total.Load() }
