package sink

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the fan-out and the live hub do with events. Labels
// are bounded: sink is the writer's Name.
type Metrics struct {
	published   *prometheus.CounterVec
	written     *prometheus.CounterVec
	failed      *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	invalid     prometheus.Counter
	liveDropped prometheus.Counter
	liveClients prometheus.Gauge
}

// NewMetrics builds the sink metrics and registers them with reg; a nil reg
// leaves them unregistered.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "sink", Name: "events_published_total",
			Help: "Events queued for a sink.",
		}, []string{"sink"}),
		written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "sink", Name: "events_written_total",
			Help: "Events a sink wrote successfully.",
		}, []string{"sink"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "sink", Name: "events_failed_total",
			Help: "Events in write attempts that failed (they are retried).",
		}, []string{"sink"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "sink", Name: "events_dropped_total",
			Help: "Events a sink lost: its queue was full, or the final flush failed.",
		}, []string{"sink"}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "sink", Name: "events_invalid_total",
			Help: "Events refused by the fan-out because they failed validation.",
		}),
		liveDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "sink", Name: "live_dropped_total",
			Help: "Events a slow live subscriber did not receive.",
		}),
		liveClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "matthan", Subsystem: "sink", Name: "live_subscribers",
			Help: "Live subscribers connected to the hub.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.published, m.written, m.failed, m.dropped, m.invalid, m.liveDropped, m.liveClients,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register sink metrics: %w", err)
		}
	}
	return m, nil
}

// discardMetrics returns unregistered metrics for a stage built without any.
func discardMetrics() *Metrics {
	m, _ := NewMetrics(nil) // cannot fail without a registerer
	return m
}
