package health

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the Monitors of one process,
// labelled by camera. One Metrics is shared by every Monitor; a nil *Metrics
// records nothing.
type Metrics struct {
	condition *prometheus.GaugeVec
	onsets    *prometheus.CounterVec
	samples   *prometheus.CounterVec
}

// NewMetrics creates the picture-health metrics and registers them with
// reg; a nil reg leaves them unregistered (tests, tools).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		condition: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "matthan", Subsystem: "picture", Name: "condition",
			Help: "1 while the picture condition (frozen, covered, defocused, moved) is in effect, else 0.",
		}, []string{"camera", "condition"}),
		onsets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "picture", Name: "condition_onsets_total",
			Help: "Times the picture condition came into effect.",
		}, []string{"camera", "condition"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "picture", Name: "samples_total",
			Help: "Frames measured for picture health.",
		}, []string{"camera"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.condition, m.onsets, m.samples} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register picture health metrics: %w", err)
		}
	}
	return m, nil
}

// cameraMetrics are the children of Metrics for one camera.
type cameraMetrics struct {
	condition map[Condition]prometheus.Gauge
	onsets    map[Condition]prometheus.Counter
	samples   prometheus.Counter
}

// forCamera resolves the children for camera, showing every condition at 0;
// nil when m is nil.
func (m *Metrics) forCamera(camera string) *cameraMetrics {
	if m == nil {
		return nil
	}
	cm := &cameraMetrics{
		condition: make(map[Condition]prometheus.Gauge, len(conditions)),
		onsets:    make(map[Condition]prometheus.Counter, len(conditions)),
		samples:   m.samples.WithLabelValues(camera),
	}
	for _, c := range conditions {
		cm.condition[c] = m.condition.WithLabelValues(camera, c.String())
		cm.condition[c].Set(0)
		cm.onsets[c] = m.onsets.WithLabelValues(camera, c.String())
	}
	return cm
}

// record shows a change.
func (cm *cameraMetrics) record(ch Change) {
	if cm == nil {
		return
	}
	if ch.Active {
		cm.condition[ch.Condition].Set(1)
		cm.onsets[ch.Condition].Inc()
		return
	}
	cm.condition[ch.Condition].Set(0)
}

// sample counts one measured frame.
func (cm *cameraMetrics) sample() {
	if cm != nil {
		cm.samples.Inc()
	}
}
