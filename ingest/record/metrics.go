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

	gapSeconds   *prometheus.CounterVec // camera, cause
	recovered    *prometheus.CounterVec
	diskErrors   *prometheus.CounterVec
	deleted      *prometheus.CounterVec // camera, rule
	deletedBytes *prometheus.CounterVec // camera, rule
	incidents    *prometheus.CounterVec // kind
}

// NewMetrics builds the recorder metrics and registers them with reg; a nil
// reg leaves them unregistered.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "record", Name: name, Help: help,
		}, []string{"camera"})
	}
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "matthan", Subsystem: "record", Name: name, Help: help,
		}, labels)
	}
	m := &Metrics{
		bytes:    counter("bytes_written_total", "Bytes written to segment files."),
		segments: counter("segments_closed_total", "Segment files closed and indexed."),
		parts:    counter("parts_written_total", "fMP4 parts written and synced to disk."),
		dropped: counter("dropped_access_units_total",
			"Access units pushed but not recorded: the queue was full, they could not be timed, or they came before a keyframe."),
		gaps: counter("gaps_total", "Breaks in the recording: each ends a segment early."),
		gapSeconds: vec("gap_seconds_total",
			"Seconds without recording written to the gap ledger, by cause (stream, queue, disk, restart).", "camera", "cause"),
		recovered:  counter("recovered_segments_total", "Segments left open by a crash or a write failure, cut to their last complete part and indexed."),
		diskErrors: counter("disk_failures_total", "Times writing the recordings failed and recording stopped until it worked again."),
		deleted: vec("retention_deleted_segments_total",
			"Segments deleted by retention, by rule (age, camera_size, total_size).", "camera", "rule"),
		deletedBytes: vec("retention_deleted_bytes_total",
			"Bytes of segments deleted by retention, by rule (age, camera_size, total_size).", "camera", "rule"),
		incidents: vec("storage_incidents_total",
			"Storage incidents raised, by kind (disk, storage).", "kind"),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.bytes, m.segments, m.parts, m.dropped, m.gaps,
		m.gapSeconds, m.recovered, m.diskErrors, m.deleted, m.deletedBytes, m.incidents} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register record metrics: %w", err)
		}
	}
	return m, nil
}

// cameraMetrics are the counters of one camera.
type cameraMetrics struct {
	bytes, segments, parts, dropped, gaps prometheus.Counter
	recovered, diskErrors                 prometheus.Counter
	gapSeconds                            *prometheus.CounterVec // labels camera, cause
}

// orNew returns m, or unregistered metrics when m is nil.
func (m *Metrics) orNew() *Metrics {
	if m == nil {
		m, _ = NewMetrics(nil) // cannot fail without a registerer
	}
	return m
}

func (m *Metrics) forCamera(camera string) cameraMetrics {
	m = m.orNew()
	return cameraMetrics{
		recovered:  m.recovered.WithLabelValues(camera),
		diskErrors: m.diskErrors.WithLabelValues(camera),
		gapSeconds: m.gapSeconds,
		bytes:      m.bytes.WithLabelValues(camera),
		segments:   m.segments.WithLabelValues(camera),
		parts:      m.parts.WithLabelValues(camera),
		dropped:    m.dropped.WithLabelValues(camera),
		gaps:       m.gaps.WithLabelValues(camera),
	}
}
