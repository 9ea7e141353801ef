package firesmoke_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/firesmoke"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// clipResult is what one clip gave.
type clipResult struct {
	alerts   []firesmoke.Alert
	first    map[string]time.Duration // first alert per event type, since the first frame
	maxScore map[string]float32       // best raw score per class
	samples  int
}

// runClip plays a clip at fps through the firesmoke_416 detector (reporting
// down to 0.25) and a Rule with the default config.
func runClip(t *testing.T, d *models.Detector, name string, fps float64) clipResult {
	t.Helper()
	fd := newFrameDetector(t, d)
	rule, err := firesmoke.New("cam", nil, firesmoke.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res := clipResult{first: map[string]time.Duration{}, maxScore: map[string]float32{}}
	diag := map[int64]string{}
	playClip(t, name, time.Duration(float64(time.Second)/fps), func(ts time.Time, f *decode.Frame) {
		dets, err := fd.Detect(f)
		if err != nil {
			t.Fatal(err)
		}
		res.samples++
		for _, d := range dets {
			res.maxScore[d.Class] = max(res.maxScore[d.Class], d.Confidence)
		}
		alerts, err := rule.Observe(ts, f, dets)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			if _, ok := res.first[a.Event.Type]; !ok {
				res.first[a.Event.Type] = ts.Sub(epoch)
			}
			res.alerts = append(res.alerts, a)
			t.Logf("%s t=%.1fs %s severity %s measures %v", name, ts.Sub(epoch).Seconds(), a.Event.Type, a.Event.Detail, a.Event.Measures)
		}
		if os.Getenv("FIRESMOKE_DIAG") != "" {
			for _, c := range rule.Candidates() {
				if os.Getenv("FIRESMOKE_TRACE") != "" && strings.Contains(name, os.Getenv("FIRESMOKE_TRACE")) && c.Votes >= 0.5 && c.Persistence >= 2*time.Second {
					t.Logf("t=%5.1f id=%d %s box=%.2f votes=%.2f score=%.2f change=%.2f spread=%.2f strength=%.1f rigid=%.2f why=%q", ts.Sub(epoch).Seconds(), c.ID, c.Class, c.Box, c.Votes, c.Score, c.Change, c.Spread, c.Strength, c.Rigid, c.Why)
				}
				if c.Persistence >= 3*time.Second {
					diag[c.ID] = fmt.Sprintf("t=%5.1f id=%d %s box=%.2f votes=%.2f score=%.2f change=%.2f spread=%.2f strength=%.1f rigid=%.2f growth=%.2f drift=%.2f rise=%.2f pers=%.0fs area=%.4f sev=%d why=%q",
						ts.Sub(epoch).Seconds(), c.ID, c.Class, c.Box, c.Votes, c.Score, c.Change, c.Spread, c.Strength, c.Rigid, c.Growth, c.Drift, c.Rise, c.Persistence.Seconds(), c.Area, c.Severity, c.Why)
				}
			}
		}
	})
	if len(diag) > 0 {
		var lines []string
		for _, l := range diag {
			lines = append(lines, l)
		}
		sort.Strings(lines)
		t.Logf("%s: last state of regions seen ≥ 3 s:\n%s", name, strings.Join(lines, "\n"))
	}
	return res
}

func firstAlert(r clipResult, typ string) string {
	if d, ok := r.first[typ]; ok {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return "none"
}

func count(r clipResult, typ string) int {
	n := 0
	for _, a := range r.alerts {
		if a.Event.Type == typ {
			n++
		}
	}
	return n
}

// TestClips plays every shared clip at 2 fps ($FIRESMOKE_FPS to change): the smoke clips must raise
// alert.smoke within 30 s of the first frame (smoke is visible from it),
// the traffic and pedestrian clips no alert at all.
func TestClips(t *testing.T) {
	d := detector(t, "firesmoke_416", 0.25)
	clips := []struct {
		name        string
		smoke, fire bool
	}{
		{"fire_smoke_model_house_garden_day.mp4", true, true},
		{"wildfire_smoke_hillside_dusk.mp4", true, false},
		{"wildfire_smoke_hillside_dusk.h264.mp4", true, false},
		{"traffic_intersection_signals_cctv_day.mp4", false, false},
		{"traffic_road_overhead_both_directions_dusk.mp4", false, false},
		{"traffic_residential_street_cctv_parked_cars.mp4", false, false},
		{"pedestrians_plaza_elevated_day.mp4", false, false},
		{"pedestrians_tram_square_elevated_day.mp4", false, false},
	}
	fps := 2.0 // the engine's default analysis rate
	if v, err := strconv.ParseFloat(os.Getenv("FIRESMOKE_FPS"), 64); err == nil && v > 0 {
		fps = v // to check other rates by hand
	}
	for _, c := range clips {
		t.Run(c.name, func(t *testing.T) {
			r := runClip(t, d, c.name, fps)
			t.Logf("%s: %d samples; first alert.smoke %s (%d alerts), alert.fire %s (%d alerts); max raw score smoke %.2f fire %.2f",
				c.name, r.samples, firstAlert(r, sink.TypeAlertSmoke), count(r, sink.TypeAlertSmoke),
				firstAlert(r, sink.TypeAlertFire), count(r, sink.TypeAlertFire), r.maxScore["smoke"], r.maxScore["fire"])
			if c.smoke {
				if at, ok := r.first[sink.TypeAlertSmoke]; !ok || at > 30*time.Second {
					t.Errorf("alert.smoke at %s, want within 30 s of the first frame", firstAlert(r, sink.TypeAlertSmoke))
				}
			} else if n := count(r, sink.TypeAlertSmoke); n > 0 {
				t.Errorf("%d alert.smoke on a clip without smoke", n)
			}
			if !c.fire && !c.smoke {
				if n := count(r, sink.TypeAlertFire); n > 0 {
					t.Errorf("%d alert.fire on a clip without fire", n)
				}
			}
		})
	}
}
