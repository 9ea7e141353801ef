package firesmoke_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/jpeg"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/firesmoke"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
)

// canvas is a synthetic 640×360 BGR frame with a textured grey background
// (so that noise-free stillness is not what makes a region static).
type canvas struct {
	f   decode.Frame
	rng *rand.Rand
}

func newCanvas() *canvas {
	c := &canvas{rng: rand.New(rand.NewPCG(1, 2))}
	c.f = decode.Frame{Width: 640, Height: 360, Stride: 3 * 640, Pix: make([]byte, 3*640*360)}
	c.background()
	return c
}

// background repaints the fixed background texture.
func (c *canvas) background() {
	for y := range c.f.Height {
		for x := range c.f.Width {
			v := byte(100 + (x/8+y/8)%2*30)
			copy(c.f.Pix[y*c.f.Stride+3*x:], []byte{v, v, v})
		}
	}
}

// rect paints [x0, x1) × [y0, y1) with colour(x, y) (B, G, R).
func (c *canvas) rect(x0, y0, x1, y1 int, colour func(x, y int) [3]byte) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			p := colour(x, y)
			copy(c.f.Pix[y*c.f.Stride+3*x:], p[:])
		}
	}
}

func red(int, int) [3]byte { return [3]byte{30, 30, 220} }

// flames paints a flickering orange region: every pixel's brightness drawn
// anew.
func (c *canvas) flames(x0, y0, x1, y1 int) {
	c.rect(x0, y0, x1, y1, func(int, int) [3]byte {
		v := 80 + c.rng.IntN(170)
		return [3]byte{byte(v / 5), byte(v / 2), byte(v)}
	})
}

func det(class string, score float32, x0, y0, x1, y1 float32) models.Detection {
	id := 0
	if class == "smoke" {
		id = 1
	}
	return models.Detection{Class: class, ClassID: id, Confidence: score, Box: [4]float32{x0, y0, x1, y1}}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// feed runs n samples 500 ms apart from start; paint draws sample i and
// dets gives its detections. It returns the alerts with their sample index.
func feed(t *testing.T, r *firesmoke.Rule, c *canvas, start time.Time, n int,
	paint func(i int), dets func(i int) []models.Detection) (alerts []firesmoke.Alert, at []int) {
	t.Helper()
	for i := range n {
		paint(i)
		got, err := r.Observe(start.Add(time.Duration(i)*500*time.Millisecond), &c.f, dets(i))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got {
			alerts = append(alerts, a)
			at = append(at, i)
		}
	}
	return alerts, at
}

func newRule(t *testing.T, zones []scene.Zone, cfg firesmoke.Config) *firesmoke.Rule {
	t.Helper()
	r, err := firesmoke.New("cam-1", zones, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A parked red car scored as fire at 0.65 on every sample for a minute
// never alarms: its pixels do not change.
func TestStaticRedObjectNeverAlerts(t *testing.T) {
	c := newCanvas()
	r := newRule(t, nil, firesmoke.Config{})
	alerts, _ := feed(t, r, c, t0, 120, func(int) { c.rect(200, 150, 280, 200, red) },
		func(int) []models.Detection { return []models.Detection{det("fire", 0.65, 200, 150, 280, 200)} })
	if len(alerts) != 0 {
		t.Fatalf("%d alerts on a static red object, want none", len(alerts))
	}
	cands := r.Candidates()
	if len(cands) != 1 || cands[0].Why != "static" || cands[0].Votes != 1 {
		t.Fatalf("candidates %+v, want one fully voted region rejected as static", cands)
	}
}

// Flickering flames alert once after MinPersistence, then again only when
// the severity rises (persistence reaches 60 s), with a complete event.
func TestFlamesAlertAndSeverityRises(t *testing.T) {
	c := newCanvas()
	r := newRule(t, nil, firesmoke.Config{})
	alerts, at := feed(t, r, c, t0, 130, func(int) { c.flames(300, 100, 340, 160) },
		func(int) []models.Detection { return []models.Detection{det("fire", 0.5, 300, 100, 340, 160)} })
	if len(alerts) != 2 {
		t.Fatalf("%d alerts at samples %v, want 2 (raised, then severity 2)", len(alerts), at)
	}
	if at[0] != 10 || at[1] != 120 {
		t.Errorf("alerts at samples %v, want 10 (5 s: MinPersistence) and 120 (60 s)", at)
	}
	for i, a := range alerts {
		ev := a.Event
		if err := ev.Validate(); err != nil {
			t.Fatal(err)
		}
		if ev.Type != sink.TypeAlertFire || ev.CameraID != "cam-1" || ev.Measures["severity"] != float64(i+1) {
			t.Errorf("alert %d: type %s camera %s severity %v", i, ev.Type, ev.CameraID, ev.Measures["severity"])
		}
		for _, k := range []string{"score", "area", "growth", "flicker", "persistence_s"} {
			if _, ok := ev.Measures[k]; !ok {
				t.Errorf("alert %d: measure %s missing", i, k)
			}
		}
		if ev.Measures["flicker"] < 10 { // per-pixel noise of ±85 levels, averaged 2×2 in the thumbnail
			t.Errorf("alert %d: flicker %v, want the strong change painted", i, ev.Measures["flicker"])
		}
		want := [4]float32{300.0 / 640, 100.0 / 360, 340.0 / 640, 160.0 / 360}
		for j := range want {
			if d := ev.Object.Box[j] - want[j]; d > 0.01 || d < -0.01 {
				t.Errorf("alert %d: box %v, want %v", i, ev.Object.Box, want)
				break
			}
		}
		sum := sha256.Sum256(a.Snapshot)
		if ev.Evidence == nil || ev.Evidence.SnapshotSHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("alert %d: evidence %+v does not hold the snapshot's sha256", i, ev.Evidence)
		}
		img, err := jpeg.Decode(bytes.NewReader(a.Snapshot))
		if err != nil || img.Bounds().Dx() != 640 {
			t.Fatalf("alert %d: snapshot is not a 640-wide JPEG: %v", i, err)
		}
		// The region is outlined in red just outside the box.
		if r, g, b, _ := img.At(320, 97).RGBA(); r>>8 < 180 || g>>8 > 100 || b>>8 > 100 {
			t.Errorf("alert %d: no red outline above the region (pixel %d,%d,%d)", i, r>>8, g>>8, b>>8)
		}
		if !ev.Evidence.ClipFrom.Equal(t0.Add(-5*time.Second)) || !ev.Evidence.ClipTo.Equal(ev.TS.Add(5*time.Second)) {
			t.Errorf("alert %d: clip window %v–%v", i, ev.Evidence.ClipFrom, ev.Evidence.ClipTo)
		}
	}
	if alerts[0].Event.Detail != "minor" || alerts[1].Event.Detail != "major" {
		t.Errorf("details %q, %q, want minor, major", alerts[0].Event.Detail, alerts[1].Event.Detail)
	}
}

// A detection in one sample out of three is not enough votes.
func TestVotes(t *testing.T) {
	c := newCanvas()
	r := newRule(t, nil, firesmoke.Config{})
	alerts, _ := feed(t, r, c, t0, 60, func(int) { c.flames(300, 100, 340, 160) },
		func(i int) []models.Detection {
			if i%3 != 0 {
				return nil
			}
			return []models.Detection{det("fire", 0.6, 300, 100, 340, 160)}
		})
	if len(alerts) != 0 {
		t.Fatalf("%d alerts with a third of the votes, want none", len(alerts))
	}
}

// After Quiet without a qualifying region the alert clears; the next
// sighting is a new alert.
func TestClearsAfterQuiet(t *testing.T) {
	c := newCanvas()
	r := newRule(t, nil, firesmoke.Config{Quiet: 20 * time.Second})
	burning := func(i int) bool { return i < 30 || i >= 80 } // 15 s on, 25 s off, on again
	alerts, at := feed(t, r, c, t0, 120, func(i int) {
		if burning(i) {
			c.flames(300, 100, 340, 160)
		} else {
			c.background()
		}
	}, func(i int) []models.Detection {
		if !burning(i) {
			return nil
		}
		return []models.Detection{det("fire", 0.6, 300, 100, 340, 160)}
	})
	if len(alerts) != 2 || at[0] != 10 || at[1] != 90 {
		t.Fatalf("alerts at samples %v, want 10 and 90", at)
	}
}

// Solid things moving (a car keeping its look) are not fire even though
// the pixels at any fixed place change: driving away it travels; edging to
// and fro in traffic it changes only where it moves (rigid motion).
func TestMovingObjectIsNotFire(t *testing.T) {
	car := func(x, y int) [3]byte { return [3]byte{20, 20, byte(150 + (x*7+y*13)%100)} }
	for _, tt := range []struct {
		name string
		pos  func(i int) int
		why  string
	}{
		{"driving", func(i int) int { return 100 + 3*i }, "travels"},                      // 6 px/s
		{"edging", func(i int) int { return 200 + 6*min(i%10, 10-i%10) }, "rigid motion"}, // ±30 px
	} {
		c := newCanvas()
		r := newRule(t, nil, firesmoke.Config{})
		alerts, _ := feed(t, r, c, t0, 100, func(i int) {
			c.background()
			x := tt.pos(i)
			c.rect(x, 150, x+80, 200, func(px, py int) [3]byte { return car(px-x, py) })
		}, func(i int) []models.Detection {
			x := float32(tt.pos(i))
			return []models.Detection{det("fire", 0.6, x, 150, x+80, 200)}
		})
		if len(alerts) != 0 {
			t.Errorf("%s: %d alerts on a solid red object moving, want none", tt.name, len(alerts))
		}
		if cands := r.Candidates(); len(cands) != 1 || cands[0].Why != tt.why {
			t.Errorf("%s: candidates %+v, want one rejected as %s", tt.name, cands, tt.why)
		}
	}
}

// A grey patch the model calls smoke while the whole picture brightens and
// darkens by 4 grey levels between samples (auto exposure, clouds passing,
// stills far apart) is not active smoke: the picture's own change is taken
// out before the activity test. Drifting smoke on that picture still
// alerts.
func TestExposureDriftIsNotSmoke(t *testing.T) {
	patch := func(i int) []models.Detection { return []models.Detection{det("smoke", 0.5, 200, 60, 400, 260)} }
	drift := func(c *canvas, i int) {
		shift := byte(4 * (i % 2))
		for k := range c.f.Pix {
			c.f.Pix[k] += shift
		}
	}
	c := newCanvas()
	r := newRule(t, nil, firesmoke.Config{})
	alerts, _ := feed(t, r, c, t0, 40, func(i int) {
		c.background()
		c.rect(200, 60, 400, 260, func(int, int) [3]byte { return [3]byte{150, 150, 150} })
		drift(c, i)
	}, patch)
	if cands := r.Candidates(); len(alerts) != 0 || len(cands) != 1 || cands[0].Why != "static" {
		t.Fatalf("%d alerts on a still patch under exposure drift, candidates %+v; want none, rejected as static", len(alerts), cands)
	}

	c = newCanvas()
	r = newRule(t, nil, firesmoke.Config{})
	alerts, _ = feed(t, r, c, t0, 30, func(i int) {
		c.background()
		c.rect(200, 60, 400, 260, func(x, y int) [3]byte {
			v := byte(140 + c.rng.IntN(16))
			return [3]byte{v, v, v}
		})
		drift(c, i)
	}, patch)
	if len(alerts) != 1 || alerts[0].Event.Type != sink.TypeAlertSmoke {
		t.Fatalf("%d alerts on drifting smoke under exposure drift, want one alert.smoke (candidates %+v)", len(alerts), r.Candidates())
	}
}

// Soft, widespread change (translucent smoke) alerts as smoke; a few dark
// people crossing a grey area the model calls smoke does not.
func TestSmokeTranslucentVersusPeople(t *testing.T) {
	box := func(i int) []models.Detection { return []models.Detection{det("smoke", 0.5, 200, 60, 400, 260)} }
	c := newCanvas()
	r := newRule(t, nil, firesmoke.Config{})
	alerts, _ := feed(t, r, c, t0, 30, func(int) {
		c.background()
		c.rect(200, 60, 400, 260, func(x, y int) [3]byte {
			v := byte(140 + c.rng.IntN(16)) // a veil of grey shifting by up to 16 levels
			return [3]byte{v, v, v}
		})
	}, box)
	if len(alerts) != 1 || alerts[0].Event.Type != sink.TypeAlertSmoke {
		t.Fatalf("%d alerts on drifting smoke, want one alert.smoke", len(alerts))
	}

	c = newCanvas()
	r = newRule(t, nil, firesmoke.Config{})
	alerts, _ = feed(t, r, c, t0, 30, func(i int) {
		c.background()
		c.rect(200, 60, 400, 260, func(int, int) [3]byte { return [3]byte{150, 150, 150} })
		for p := range 3 { // three people, 12×30 px, walking 8 px per sample
			x := 210 + (i*8+p*60)%170
			c.rect(x, 100+p*50, x+12, 130+p*50, func(int, int) [3]byte { return [3]byte{40, 40, 50} })
		}
	}, box)
	if len(alerts) != 0 {
		t.Fatalf("%d alerts on people crossing a grey area, want none (candidates %+v)", len(alerts), r.Candidates())
	}
}

// Detections in an ignore zone never count; with smoke_watch zones only
// those inside one do, and the alert names the zone.
func TestZones(t *testing.T) {
	square := func(id string, kind scene.ZoneKind, x0, y0, x1, y1 float64) scene.Zone {
		return scene.Zone{ID: id, Kind: kind, Polygon: scene.Polygon{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}}
	}
	run := func(zones []scene.Zone) []firesmoke.Alert {
		c := newCanvas()
		r := newRule(t, zones, firesmoke.Config{})
		alerts, _ := feed(t, r, c, t0, 30, func(int) { c.flames(300, 100, 340, 160) },
			func(int) []models.Detection { return []models.Detection{det("fire", 0.6, 300, 100, 340, 160)} })
		return alerts
	}
	// The box's bottom centre is (320, 160) = (0.5, 0.444).
	if a := run([]scene.Zone{square("road", scene.ZoneIgnore, 0.4, 0.3, 0.6, 0.6)}); len(a) != 0 {
		t.Errorf("%d alerts inside an ignore zone", len(a))
	}
	if a := run([]scene.Zone{{ID: "flags", Kind: scene.ZoneIgnore, Classes: []string{"smoke"},
		Polygon: square("", "", 0.4, 0.3, 0.6, 0.6).Polygon}}); len(a) != 1 {
		t.Errorf("%d alerts inside an ignore zone for smoke only, want the fire alert", len(a))
	}
	if a := run([]scene.Zone{square("ridge", scene.ZoneSmokeWatch, 0, 0.7, 1, 1)}); len(a) != 0 {
		t.Errorf("%d alerts outside the only smoke_watch zone", len(a))
	}
	a := run([]scene.Zone{square("ridge", scene.ZoneSmokeWatch, 0, 0.7, 1, 1), square("hill", scene.ZoneSmokeWatch, 0.3, 0.2, 0.7, 0.6)})
	if len(a) != 1 || a[0].Event.Zone != "hill" {
		t.Errorf("alerts %v, want one in zone hill", a)
	}
}

func TestErrors(t *testing.T) {
	for _, cfg := range []firesmoke.Config{
		{MinScore: 1.2}, {AlertScore: 0.1, MinScore: 0.3}, {MinVotes: 2}, {MinArea: -1},
		{FireFlicker: -1}, {SmokeSpread: 1.5}, {Window: -time.Second}, {FireClass: "smoke"},
		{SeverityGrowth: [2]float64{3, 2}}, {SnapshotQuality: 101},
	} {
		if _, err := firesmoke.New("cam", nil, cfg); !errors.Is(err, firesmoke.ErrInvalidConfig) {
			t.Errorf("config %+v: error %v, want ErrInvalidConfig", cfg, err)
		}
	}
	r := newRule(t, nil, firesmoke.Config{})
	bad := &decode.Frame{Width: 640, Height: 360, Stride: 1920, Pix: make([]byte, 100)}
	if _, err := r.Observe(t0, bad, nil); !errors.Is(err, firesmoke.ErrBadFrame) {
		t.Errorf("short frame: error %v, want ErrBadFrame", err)
	}
	if _, err := firesmoke.NewStills(nil, firesmoke.StillConfig{InputSize: 640, Overlap: 0.7}); !errors.Is(err, firesmoke.ErrInvalidConfig) {
		t.Errorf("overlap 0.7: error %v, want ErrInvalidConfig", err)
	}
}

// Flush forgets the regions: persistence starts again.
func TestFlush(t *testing.T) {
	c := newCanvas()
	r := newRule(t, nil, firesmoke.Config{})
	flames := func(int) { c.flames(300, 100, 340, 160) }
	dets := func(int) []models.Detection { return []models.Detection{det("fire", 0.6, 300, 100, 340, 160)} }
	if a, _ := feed(t, r, c, t0, 20, flames, dets); len(a) != 1 {
		t.Fatalf("%d alerts before Flush, want 1", len(a))
	}
	r.Flush()
	if len(r.Candidates()) != 0 {
		t.Fatal("candidates left after Flush")
	}
	a, at := feed(t, r, c, t0.Add(20*time.Second), 20, flames, dets)
	if len(a) != 1 || at[0] != 10 {
		t.Fatalf("alerts at %v after Flush, want one at sample 10", at)
	}
}
