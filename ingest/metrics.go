package ingest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the sources of one process, labelled
// by camera. One Metrics is shared by every Source; a nil *Metrics records nothing.
type Metrics struct {
	accessUnits *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	reconnects  *prometheus.CounterVec
	packetsLost *prometheus.CounterVec
	state       *prometheus.GaugeVec
}

// NewMetrics creates the ingest metrics and registers them with reg; a nil
// reg leaves them unregistered (tests, tools).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		accessUnits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "access_units_total",
			Help: "Access units received from the camera and handed to consumers.",
		}, []string{"camera"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "bytes_total",
			Help: "Bytes of NAL units received from the camera.",
		}, []string{"camera"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "reconnects_total",
			Help: "Connection attempts after the first.",
		}, []string{"camera"}),
		packetsLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "rtp_packets_lost_total",
			Help: "RTP packets the camera sent that never arrived.",
		}, []string{"camera"}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "matthan", Subsystem: "ingest", Name: "state",
			Help: "1 for the camera's current connection state (connecting, online, offline, error), 0 for the others.",
		}, []string{"camera", "state"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.accessUnits, m.bytes, m.reconnects, m.packetsLost, m.state} {
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
	packetsLost prometheus.Counter
	state       [len(states)]prometheus.Gauge
}

// forCamera returns the metrics of one camera, or nil when m is nil.
func (m *Metrics) forCamera(camera string) *cameraMetrics {
	if m == nil {
		return nil
	}
	cm := &cameraMetrics{
		accessUnits: m.accessUnits.WithLabelValues(camera),
		bytes:       m.bytes.WithLabelValues(camera),
		reconnects:  m.reconnects.WithLabelValues(camera),
		packetsLost: m.packetsLost.WithLabelValues(camera),
	}
	for i, st := range states {
		cm.state[i] = m.state.WithLabelValues(camera, st.String())
	}
	return cm
}

// setState marks st as the camera's current state.
func (cm *cameraMetrics) setState(st State) {
	if cm == nil {
		return
	}
	for i, g := range cm.state {
		if State(i) == st {
			g.Set(1)
		} else {
			g.Set(0)
		}
	}
}
