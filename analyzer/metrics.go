package analyzer

import "github.com/prometheus/client_golang/prometheus"

// Drop stages, the values of the "stage" label of FramesDropped.
const (
	stageIngestQueue = "ingest_queue" // access units dropped because decoding fell behind
	stageFrameQueue  = "frame_queue"  // sampled frames replaced before inference took them
	stageNotDecoded  = "not_decoded"  // non-reference pictures not decoded while a sampled frame waited for inference
)

// Metrics are the analysis counters, labelled by camera.
type Metrics struct {
	FramesDecoded    *prometheus.CounterVec
	FramesSampled    *prometheus.CounterVec
	FramesInferred   *prometheus.CounterVec
	FramesDropped    *prometheus.CounterVec
	DecodeErrors     *prometheus.CounterVec
	InferenceSeconds *prometheus.HistogramVec
	Events           *prometheus.CounterVec
}

// NewMetrics builds the analysis metrics and registers them with reg when it
// is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	camera := []string{"camera"}
	m := &Metrics{
		FramesDecoded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matthan_frames_decoded_total", Help: "Pictures decoded from the camera's stream.",
		}, camera),
		FramesSampled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matthan_frames_sampled_total", Help: "Decoded pictures kept by the sampler for analysis.",
		}, camera),
		FramesInferred: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matthan_frames_inferred_total", Help: "Frames run through the detector.",
		}, camera),
		FramesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matthan_frames_dropped_total", Help: "Access units or frames dropped because analysis fell behind, by stage.",
		}, []string{"camera", "stage"}),
		DecodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matthan_decode_errors_total", Help: "Access units the decoder rejected.",
		}, camera),
		InferenceSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "matthan_inference_seconds", Help: "Time to preprocess a frame and run the detector on it.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 10),
		}, []string{"model"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matthan_analyzer_events_total", Help: "Events produced by analysis, by type.",
		}, []string{"camera", "type"}),
	}
	if reg != nil {
		reg.MustRegister(m.FramesDecoded, m.FramesSampled, m.FramesInferred, m.FramesDropped,
			m.DecodeErrors, m.InferenceSeconds, m.Events)
	}
	return m
}
