package record

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what recorders write and lose. One Metrics is shared by the
// recorders of all cameras; the only label is camera.
type Metrics struct {
	bytes    *prometheus.CounterVec
	segments *prometheus.CounterVec
	parts    *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	gaps     *prometheus.CounterVec
}

// NewMetrics builds the recorder metrics and registers them with reg; a nil
// reg leaves them unregistered.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "record", Name: name, Help: help,
		}, []string{"camera"})
	}
	m := &Metrics{
		bytes:    counter("bytes_written_total", "Bytes written to segment files."),
		segments: counter("segments_closed_total", "Segment files closed and indexed."),
		parts:    counter("parts_written_total", "fMP4 parts written and synced to disk."),
		dropped: counter("dropped_access_units_total",
			"Access units pushed but not recorded: the queue was full, they could not be timed, or they came before a keyframe."),
		gaps: counter("gaps_total", "Breaks in the recording: each ends a segment early."),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.bytes, m.segments, m.parts, m.dropped, m.gaps} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register record metrics: %w", err)
		}
	}
	return m, nil
}

// cameraMetrics are the counters of one camera.
type cameraMetrics struct {
	bytes, segments, parts, dropped, gaps prometheus.Counter
}

func (m *Metrics) forCamera(camera string) cameraMetrics {
	if m == nil {
		m, _ = NewMetrics(nil) // cannot fail without a registerer
	}
	return cameraMetrics{
		bytes:    m.bytes.WithLabelValues(camera),
		segments: m.segments.WithLabelValues(camera),
		parts:    m.parts.WithLabelValues(camera),
		dropped:  m.dropped.WithLabelValues(camera),
		gaps:     m.gaps.WithLabelValues(camera),
	}
}
