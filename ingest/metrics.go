package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the sources of one process, labelled
// by camera and stream ("main" or "sub"). One Metrics is shared by every
// Source; a nil *Metrics records nothing.
type Metrics struct {
	accessUnits *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	reconnects  *prometheus.CounterVec
	packets     *prometheus.CounterVec
	packetsLost *prometheus.CounterVec
	state       *prometheus.GaugeVec
}

// NewMetrics creates the ingest metrics and registers them with reg; a nil
// reg leaves them unregistered (tests, tools).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	labels := []string{"camera", "stream"}
	m := &Metrics{
		accessUnits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "access_units_total",
			Help: "Access units received from the camera and handed to consumers.",
		}, labels),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "bytes_total",
			Help: "Bytes of NAL units received from the camera.",
		}, labels),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "reconnects_total",
			Help: "Connection attempts after the first.",
		}, labels),
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "rtp_packets_total",
			Help: "RTP packets received from the camera.",
		}, labels),
		packetsLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "rtp_packets_lost_total",
			Help: "RTP packets the camera sent that never arrived.",
		}, labels),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "state",
			Help: "1 for the camera's current connection state (connecting, online, degraded, offline, error), 0 for the others.",
		}, []string{"camera", "stream", "state"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.accessUnits, m.bytes, m.reconnects, m.packets, m.packetsLost, m.state} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register ingest metrics: %w", err)
		}
	}
	return m, nil
}

// cameraMetrics are the children of Metrics for one camera, resolved once so
// the per-access-unit path does no label lookup.
type cameraMetrics struct {
	accessUnits prometheus.Counter
	bytes       prometheus.Counter
	reconnects  prometheus.Counter
	packets     prometheus.Counter
	packetsLost prometheus.Counter
	state       [len(states)]prometheus.Gauge
}

// forCamera returns the metrics of one stream of a camera, or nil when m is nil.
func (m *Metrics) forCamera(camera, stream string) *cameraMetrics {
	if m == nil {
		return nil
	}
	cm := &cameraMetrics{
		accessUnits: m.accessUnits.WithLabelValues(camera, stream),
		bytes:       m.bytes.WithLabelValues(camera, stream),
		reconnects:  m.reconnects.WithLabelValues(camera, stream),
		packets:     m.packets.WithLabelValues(camera, stream),
		packetsLost: m.packetsLost.WithLabelValues(camera, stream),
	}
	for i, st := range states {
		cm.state[i] = m.state.WithLabelValues(camera, stream, st.String())
	}
	return cm
}

// setState marks st as the camera's current state.
func (cm *cameraMetrics) setState(st State) {
	if cm == nil {
		return
	}
	for i, g := range cm.state {
		if states[i] == st {
			g.Set(1)
		} else {
			g.Set(0)
		}
	}
}
