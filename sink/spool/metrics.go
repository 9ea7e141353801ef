package spool

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics describes the spools of a process. Labels are bounded: spool is
// the spool's Name (a sink name).
type Metrics struct {
	bytes    *prometheus.GaugeVec
	maxBytes *prometheus.GaugeVec
	records  *prometheus.GaugeVec
	full     *prometheus.GaugeVec
	appended *prometheus.CounterVec
	acked    *prometheus.CounterVec
	refused  *prometheus.CounterVec
	damaged  *prometheus.CounterVec
	syncFail *prometheus.CounterVec
}

// NewMetrics builds the spool metrics and registers them with reg; a nil
// reg leaves them unregistered.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "matthan", Subsystem: "spool", Name: name, Help: help,
		}, []string{"spool"})
	}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "spool", Name: name, Help: help,
		}, []string{"spool"})
	}
	m := &Metrics{
		bytes:    gauge("bytes", "Bytes of records waiting in the spool (appended, not acknowledged)."),
		maxBytes: gauge("max_bytes", "The spool's bound on waiting bytes; Append refuses records beyond it."),
		records:  gauge("records", "Records waiting in the spool (appended, not acknowledged)."),
		full:     gauge("full", "1 while the spool is full and refuses records, else 0."),
		appended: counter("appended_total", "Records appended to the spool."),
		acked:    counter("acked_total", "Records the reader acknowledged."),
		refused:  counter("refused_total", "Records refused because the spool was full or the record too large."),
		damaged:  counter("damaged_bytes_total", "Bytes of damaged records cut off or skipped: a torn tail after a crash, or corruption."),
		syncFail: counter("sync_failures_total", "Failed fsyncs of the spool's segment."),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.bytes, m.maxBytes, m.records, m.full, m.appended, m.acked, m.refused, m.damaged, m.syncFail,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register spool metrics: %w", err)
		}
	}
	return m, nil
}

// discardMetrics returns unregistered metrics for a spool opened without any.
func discardMetrics() *Metrics {
	m, _ := NewMetrics(nil) // cannot fail without a registerer
	return m
}

// spoolMetrics are one spool's children of Metrics.
type spoolMetrics struct {
	bytes, maxBytes, records, full              prometheus.Gauge
	appended, acked, refused, damaged, syncFail prometheus.Counter
}

func (m *Metrics) forSpool(name string) spoolMetrics {
	return spoolMetrics{
		bytes:    m.bytes.WithLabelValues(name),
		maxBytes: m.maxBytes.WithLabelValues(name),
		records:  m.records.WithLabelValues(name),
		full:     m.full.WithLabelValues(name),
		appended: m.appended.WithLabelValues(name),
		acked:    m.acked.WithLabelValues(name),
		refused:  m.refused.WithLabelValues(name),
		damaged:  m.damaged.WithLabelValues(name),
		syncFail: m.syncFail.WithLabelValues(name),
	}
}
