package health_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/matthan/matthan/analyzer/health"
	"github.com/matthan/matthan/ingest/decode"
)

// The Done-when of issue 3 asks for detection within 10 s; so does the
// clearing here, once the cause is gone.
const (
	detectWithin = 10 * time.Second
	clearWithin  = 10 * time.Second
)

// TestFaults plays clips of cameras in good order, applies a fault from
// faultAt to faultEnd, and checks that exactly the expected condition comes
// within detectWithin of the fault and clears within clearWithin of its end.
func TestFaults(t *testing.T) {
	const (
		faultAt  = 14 * time.Second // after the 10 s of learning
		faultEnd = 28 * time.Second
		end      = 40 * time.Second
	)
	t.Parallel() // with the real-time TestOverRTSP
	cases := []struct {
		name  string
		clip  string
		fault func() fault
		want  health.Condition
	}{
		{"still/residential", clipResidential, repeated, health.Frozen}, // the quietest scene
		{"still/intersection", clipIntersection, repeated, health.Frozen},
		{"still/wildfire", clipWildfire, repeated, health.Frozen},
		{"black/intersection", clipIntersection, func() fault { return black }, health.Covered},
		{"hand/overhead", clipOverhead, func() fault { return hand }, health.Covered},
		{"hand/plaza", clipPlaza, func() fault { return hand }, health.Covered},
		{"blur3/tram", clipTram, func() fault { return defocus(3) }, health.Defocused},
		{"blur3/overhead", clipOverhead, func() fault { return defocus(3) }, health.Defocused},
		{"blur3/wildfire", clipWildfire, func() fault { return defocus(3) }, health.Defocused},
		{"knock10x5/fire", clipFire, func() fault { return knocked(0.10, 0.05) }, health.Moved},
		{"knock10x0/residential", clipResidential, func() fault { return knocked(0.10, 0) }, health.Moved},
		{"knock4x4/overhead", clipOverhead, func() fault { return knocked(-0.04, 0.04) }, health.Moved},
		{"knock0x10/wildfire", clipWildfire, func() fault { return knocked(0, 0.10) }, health.Moved},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			mon := &health.Monitor{Camera: "cam", OnChange: rec.add}
			defer mon.Close()
			cam := newCamera(t, tc.clip, health.DefaultInterval)
			apply := tc.fault()
			for {
				f, at := cam.sample()
				if at >= end {
					break
				}
				if at >= faultAt && at < faultEnd {
					f = apply(f)
				}
				if err := mon.Observe(f); err != nil {
					t.Fatal(err)
				}
			}
			if len(rec.changes) != 2 {
				t.Fatalf("changes %s, want %s on and off", describe(rec.changes), tc.want)
			}
			on, off := rec.changes[0], rec.changes[1]
			if on.Condition != tc.want || !on.Active || off.Condition != tc.want || off.Active {
				t.Fatalf("changes %s, want %s on and off", describe(rec.changes), tc.want)
			}
			if d := on.At.Sub(epoch.Add(faultAt)); d < 0 || d > detectWithin {
				t.Errorf("%s detected %v after the fault, want within %v", tc.want, d, detectWithin)
			}
			if d := off.At.Sub(epoch.Add(faultEnd)); d < 0 || d > clearWithin {
				t.Errorf("%s cleared %v after the fault ended, want within %v", tc.want, d, clearWithin)
			}
			if on.Since.Before(epoch.Add(faultAt)) || on.Since.After(on.At) {
				t.Errorf("onset Since %v not between the fault %v and the detection %v", on.Since, epoch.Add(faultAt), on.At)
			}
			if on.Camera != "cam" || on.Detail == "" {
				t.Errorf("change %+v lacks camera or detail", on)
			}
			t.Logf("detected after %v (%s); cleared after %v",
				on.At.Sub(epoch.Add(faultAt)), on.Detail, off.At.Sub(epoch.Add(faultEnd)))
		})
	}
}

// describe lists changes for failure messages.
func describe(cs []health.Change) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s active=%v at %v (%s)", c.Condition, c.Active, c.At.Sub(epoch), c.Detail))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// TestSampling feeds every decoded frame: the Monitor measures at its own
// Interval of capture time.
func TestSampling(t *testing.T) {
	cases := []struct {
		interval time.Duration
		want     int64 // samples in 10 s
	}{
		{0, 20}, // DefaultInterval
		{time.Second, 10},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.interval), func(t *testing.T) {
			mon := &health.Monitor{Camera: "cam", Interval: tc.interval}
			defer mon.Close()
			cam := newCamera(t, clipIntersection, 0) // every frame
			for {
				f, at := cam.sample()
				if at >= 10*time.Second {
					break
				}
				if err := mon.Observe(f); err != nil {
					t.Fatal(err)
				}
			}
			st := mon.Status()
			if st.Samples < tc.want-1 || st.Samples > tc.want+1 {
				t.Errorf("%d samples in 10 s, want %d", st.Samples, tc.want)
			}
			if st.LastSample.Before(epoch.Add(9*time.Second)) || !st.Learning || len(st.Active) != 0 {
				t.Errorf("status %+v: want a last sample after 9 s, still learning, nothing active", st)
			}
		})
	}
}

func TestBadFrames(t *testing.T) {
	mon := &health.Monitor{Camera: "cam"}
	cases := []struct {
		name string
		f    *decode.Frame
	}{
		{"nil", nil},
		{"empty", &decode.Frame{}},
		{"short pix", &decode.Frame{Width: 64, Height: 64, Stride: 192, Pix: make([]byte, 100)}},
		{"stride", &decode.Frame{Width: 64, Height: 64, Stride: 64, Pix: make([]byte, 64*64*3)}},
		{"tiny", &decode.Frame{Width: 4, Height: 4, Stride: 12, Pix: make([]byte, 48)}},
	}
	for _, tc := range cases {
		if err := mon.Observe(tc.f); !errors.Is(err, health.ErrBadFrame) {
			t.Errorf("%s: %v, want ErrBadFrame", tc.name, err)
		}
	}
	if st := mon.Status(); st.Samples != 0 {
		t.Errorf("bad frames counted: %+v", st)
	}
	// Padded rows are fine.
	f := &decode.Frame{Width: 64, Height: 48, Stride: 256, Pix: make([]byte, 256*48), Capture: epoch}
	if err := mon.Observe(f); err != nil {
		t.Errorf("padded frame: %v", err)
	}
	mon.Close()
	if err := mon.Observe(f); !errors.Is(err, health.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	mon.Close()
}

// TestRelearn knocks a camera, then accepts its new view: moved clears, the
// Monitor learns again and stays quiet on the new view. The metrics follow.
func TestRelearn(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics, err := health.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := health.NewMetrics(reg); err == nil {
		t.Error("registering the metrics twice: no error")
	}
	var rec recorder
	mon := &health.Monitor{Camera: "cam", OnChange: rec.add, Metrics: metrics}
	defer mon.Close()
	gauge := func(c health.Condition) float64 {
		g, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range g {
			if mf.GetName() != "matthan_picture_condition" {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["camera"] == "cam" && labels["condition"] == c.String() {
					return m.GetGauge().GetValue()
				}
			}
		}
		t.Fatalf("no gauge for %s", c)
		return 0
	}

	cam := newCamera(t, clipIntersection, health.DefaultInterval)
	knock := knocked(0.1, 0)
	relearnAt := time.Duration(0)
	for {
		f, at := cam.sample()
		if at >= 45*time.Second {
			break
		}
		if at >= 12*time.Second {
			f = knock(f)
		}
		if err := mon.Observe(f); err != nil {
			t.Fatal(err)
		}
		if relearnAt == 0 && len(rec.changes) == 1 {
			if got := gauge(health.Moved); got != 1 {
				t.Errorf("moved gauge %v while moved", got)
			}
			st := mon.Status()
			if len(st.Active) != 1 || st.Active[0].Condition != health.Moved || st.Active[0].Detail == "" {
				t.Errorf("status while moved: %+v", st)
			}
			mon.Relearn()
			if !mon.Status().Learning {
				t.Error("not learning after Relearn")
			}
			relearnAt = at
		}
	}
	if relearnAt == 0 {
		t.Fatalf("no move detected: %s", describe(rec.changes))
	}
	if len(rec.changes) != 2 || rec.changes[0].Condition != health.Moved || !rec.changes[0].Active ||
		rec.changes[1].Condition != health.Moved || rec.changes[1].Active {
		t.Fatalf("changes %s, want moved on, then off at Relearn only", describe(rec.changes))
	}
	if st := mon.Status(); st.Learning || len(st.Active) != 0 {
		t.Errorf("status at the end, long after Relearn: %+v", st)
	}
	if got := gauge(health.Moved); got != 0 {
		t.Errorf("moved gauge %v after clearing", got)
	}
	if n := testutil.CollectAndCount(reg, "matthan_picture_condition_onsets_total"); n != 4 {
		t.Errorf("%d onset counters, want one per condition", n)
	}
}
