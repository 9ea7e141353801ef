package health

import (
	"errors"
	"github.com/matthan/matthan/deploy/testenv"
	"io"
	"math"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest/decode"
)

// TestNormalFootage plays every clip of cameras in good order for at least
// minPlay (in a loop) and checks that no condition comes, and that every
// measure keeps a margin from its onset threshold. The logged minima are
// what the defaults were chosen from.
func TestNormalFootage(t *testing.T) {
	t.Parallel()                     // with the real-time TestOverRTSP
	const minPlay = 40 * time.Second // 10 s of learning, then 30 s judged
	clips := []string{
		"traffic_intersection_signals_cctv_day.mp4",
		"traffic_road_overhead_both_directions_dusk.mp4",
		"traffic_residential_street_cctv_parked_cars.mp4",
		"pedestrians_plaza_elevated_day.mp4",
		"pedestrians_tram_square_elevated_day.mp4",
		"fire_smoke_model_house_garden_day.mp4",
		"wildfire_smoke_hillside_dusk.mp4",
	}
	for _, name := range clips {
		t.Run(name, func(t *testing.T) {
			var changes []Change
			m := &Monitor{Camera: "cam", OnChange: func(c Change) { changes = append(changes, c) }}
			defer m.Close()
			var (
				minStd, minRatio, minCorr = math.Inf(1), math.Inf(1), math.Inf(1)
				maxShift                  float64
				stillRun, longestStill    time.Duration
				lastAt                    time.Time
			)
			m.probe = func(at time.Time, x measures, ratio float64) {
				minStd = math.Min(minStd, x.Std)
				if ratio > 0 {
					minRatio = math.Min(minRatio, ratio)
				}
				if x.HasRef {
					maxShift = math.Max(maxShift, x.ShiftLen)
					minCorr = math.Min(minCorr, x.Corr)
				}
				if x.Diff < DefaultFrozenDiff && !lastAt.IsZero() {
					stillRun += at.Sub(lastAt)
					longestStill = max(longestStill, stillRun)
				} else {
					stillRun = 0
				}
				lastAt = at
			}
			played := playLooped(t, name, minPlay, m)
			if len(changes) > 0 {
				t.Errorf("changes on a camera in good order: %+v", changes)
			}
			if st := m.Status(); st.Learning {
				t.Errorf("still learning after %v", played)
			}
			t.Logf("%v played: contrast ≥ %.1f (uniform under %d), still for ≤ %v (frozen after %v), "+
				"sharpness ≥ %.2f of baseline (defocused under %.2f), shift ≤ %.2f px (moved from %.1f), correlation ≥ %.2f (moved under %.2f)",
				played, minStd, DefaultCoveredContrast, longestStill, DefaultFrozenAfter, minRatio, DefaultDefocusRatio,
				maxShift, DefaultMovedShift*thumbWidth, minCorr, DefaultMovedCorrelation)
			// Margins: at least the clearing thresholds, and half the time.
			if minStd < clearContrast*DefaultCoveredContrast || longestStill > DefaultFrozenAfter/2 ||
				minRatio < clearDefocus*DefaultDefocusRatio || maxShift > clearShift*DefaultMovedShift*thumbWidth ||
				minCorr < clearCorr*DefaultMovedCorrelation {
				t.Errorf("a measure is within the hysteresis band of its threshold")
			}
		})
	}
}

// playLooped feeds m the clip, in a loop, for at least minPlay of capture
// time, every frame, and returns how long it played.
func playLooped(t *testing.T, name string, minPlay time.Duration, m *Monitor) time.Duration {
	var offset, at time.Duration
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var f decode.Frame
	for offset < minPlay {
		v, err := decode.OpenVideo(testenv.Clip(t, name))
		if err != nil {
			t.Fatalf("%v (run make deps)", err)
		}
		for {
			err := v.Next(&f)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				v.Close()
				t.Fatal(err)
			}
			at = offset + f.PTS
			f.Capture = base.Add(at)
			if err := m.Observe(&f); err != nil {
				v.Close()
				t.Fatal(err)
			}
		}
		v.Close()
		offset = at + 40*time.Millisecond
	}
	return at
}
