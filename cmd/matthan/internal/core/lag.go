package core

import (
	"log/slog"
	"math"
	"time"

	"github.com/matthan/matthan/analyzer"
)

// Thresholds of the analysis-lag watch.
const (
	// lagWindow is the time over which a camera's analysed rate is judged.
	lagWindow = time.Minute
	// lagBelow is the share of the asked rate under which a camera whose
	// frames were dropped for analysis counts as falling behind, and
	// lagRecovered the share from which it keeps up again (hysteresis).
	lagBelow     = 0.8
	lagRecovered = 0.9
)

// lagWatch tells the operator, in the log, when a camera's analysis falls
// behind its sampling rate because the node is saturated (its inference,
// or decoding starved of CPU) — frames were dropped for analysis and fewer
// were analysed than asked —
// and when it keeps up again. A camera that sends fewer frames than asked,
// or none, drops nothing and is not reported. It is fed each camera's
// pipeline counters once per lagWindow.
type lagWatch struct {
	log  *slog.Logger
	prev map[string]analyzer.Stats
	late map[string]bool
}

// observe judges camera's counters st against those of the previous call,
// elapsed ago.
func (w *lagWatch) observe(camera string, st analyzer.Stats, elapsed time.Duration) {
	if w.prev == nil {
		w.prev, w.late = make(map[string]analyzer.Stats), make(map[string]bool)
	}
	prev, seen := w.prev[camera]
	w.prev[camera] = st
	if !seen || st.Period <= 0 || elapsed <= 0 {
		return
	}
	asked := elapsed.Seconds() / st.Period.Seconds()
	analysed := float64(st.FramesInferred - prev.FramesInferred)
	dropped := st.FramesDropped - prev.FramesDropped
	perSecond := func(n float64) float64 { return math.Round(100*n/elapsed.Seconds()) / 100 }
	switch {
	case !w.late[camera] && dropped > 0 && analysed < lagBelow*asked:
		w.late[camera] = true
		w.log.Warn("analysis falls behind: the node cannot analyse all the frames asked (see matthan_frames_dropped_total by stage and matthan_scheduler_busy_seconds_total)",
			"camera", camera, "analysed_per_s", perSecond(analysed), "asked_per_s", perSecond(asked),
			"dropped", dropped, "over", elapsed.Round(time.Second).String())
	case w.late[camera] && (dropped == 0 || analysed >= lagRecovered*asked):
		w.late[camera] = false
		w.log.Info("analysis keeps up again", "camera", camera,
			"analysed_per_s", perSecond(analysed), "asked_per_s", perSecond(asked))
	}
}
