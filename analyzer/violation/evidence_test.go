package violation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// checkSnapshot decodes v's snapshot, checks its size and its sha256
// against the event's, and returns the picture (the caller closes it).
func checkSnapshot(t *testing.T, v Violation, w, h int) gocv.Mat {
	t.Helper()
	if len(v.Snapshot) == 0 {
		t.Fatal("no snapshot")
	}
	sum := sha256.Sum256(v.Snapshot)
	if got := v.Event.Evidence.SnapshotSHA256; got != hex.EncodeToString(sum[:]) {
		t.Errorf("event sha256 %s, snapshot's %x", got, sum)
	}
	img, err := gocv.IMDecode(v.Snapshot, gocv.IMReadColor)
	if err != nil || img.Empty() {
		t.Fatalf("snapshot does not decode as an image: %v", err)
	}
	if img.Cols() != w || img.Rows() != h {
		t.Errorf("snapshot %dx%d, want %dx%d", img.Cols(), img.Rows(), w, h)
	}
	return img
}

// meanBGR is the mean colour of a rectangle of img.
func meanBGR(img gocv.Mat, r image.Rectangle) (b, g, rr float64) {
	roi := img.Region(r)
	defer roi.Close()
	m := roi.Mean()
	return m.Val1, m.Val2, m.Val3
}

// A red-light run on frames whose signal head shows red: the violation's
// snapshot is a JPEG of the frame with the stop line drawn in red and the
// offender's box in magenta, and the caller's frame is left as it was.
func TestRedLightSnapshot(t *testing.T) {
	const w, h = 640, 360
	sc := scene.Scene{Signals: []scene.Signal{{ID: "main",
		ROI:      []scene.Point{{X: 0.05, Y: 0.05}, {X: 0.10, Y: 0.30}},
		StopLine: []scene.Point{{X: 0.1, Y: 0.6}, {X: 0.9, Y: 0.6}}}}}
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(110, 110, 110, 0), h, w, gocv.MatTypeCV8UC3)
	gocv.Rectangle(&img, image.Rect(34, 20, 62, 106), color.RGBA{R: 20, G: 20, B: 20, A: 255}, -1)
	gocv.Circle(&img, image.Pt(48, 36), 10, color.RGBA{R: 255, G: 30, B: 30, A: 255}, -1)
	frame := &decode.Frame{Width: w, Height: h, Stride: 3 * w, Pix: img.ToBytes()}
	img.Close()
	orig := bytes.Clone(frame.Pix)

	e := newEngine(t, sc, Config{})
	const dt = 500 * time.Millisecond
	var got []Violation
	for i, tracks := range frames(dt, tr{id: 11, class: "car", pts: line(pt(0.5, 0.21), pt(0.5, 0.96), 16), h: 0.2}) {
		v, err := e.Observe(t0.Add(time.Duration(i)*dt), frame, tracks)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v...)
	}
	if len(got) != 1 {
		t.Fatalf("got %d violations, want 1 (signal read %s)", len(got), e.Signals()[0].State)
	}
	if !bytes.Equal(frame.Pix, orig) {
		t.Error("the caller's frame was drawn on")
	}
	if r := e.Signals()[0]; r.State != SignalRed || r.Source != SourceCamera {
		t.Errorf("signal %s from %s, want red from the camera", r.State, r.Source)
	}
	snap := checkSnapshot(t, got[0], w, h)
	defer snap.Close()

	// The stop line, away from the offender: red.
	if b, g, r := meanBGR(snap, image.Rect(100, 214, 200, 218)); r < 150 || g > 90 || b > 90 {
		t.Errorf("stop line drawn as BGR %.0f,%.0f,%.0f, want red", b, g, r)
	}
	// The offender's box: its left edge, below its label, is magenta.
	bx := got[0].Event.Object.Box
	x := int(float64(bx[0]) * w)
	y0, y1 := int(float64(bx[1])*h)+30, int(float64(bx[3])*h)-5
	if b, g, r := meanBGR(snap, image.Rect(x-1, y0, x+2, y1)); r < 150 || b < 150 || g > 110 {
		t.Errorf("offender box drawn as BGR %.0f,%.0f,%.0f, want magenta", b, g, r)
	}
}

// Each kind of rule draws on a real decoded frame (with the stride and
// size the decoder gives) and the snapshot decodes to the picture's full
// size, also when the frame analysed was scaled to a model's input (the
// evidence must keep plates legible).
func TestSnapshotOnRealFootage(t *testing.T) {
	for _, tc := range []struct {
		name string
		w, h int // the analysed frame's size; 0×0 the picture's own
	}{
		{"full size", 0, 0},
		{"model size, picture kept", 416, 234},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decode.OpenVideo(testenv.Clip(t, "traffic_residential_street_cctv_parked_cars.mp4"))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			var frame decode.Frame
			defer frame.Close()
			if err := v.Decode(); err != nil {
				t.Fatal(err)
			}
			if err := v.ConvertKeep(&frame, tc.w, tc.h); err != nil {
				t.Fatal(err)
			}
			w, h := frame.SourceSize()
			sc := scene.Scene{
				Lanes: []scene.Lane{{ID: "street", Direction: scene.Point{X: 1, Y: 0.2}, Classes: []string{"car"},
					Polygon: scene.Polygon{{X: 0.05, Y: 0.45}, {X: 0.95, Y: 0.55}, {X: 0.95, Y: 0.8}, {X: 0.05, Y: 0.7}}}},
				Zones: []scene.Zone{{ID: "hydrant", Kind: scene.ZoneNoParking, Dwell: scene.Duration(20 * time.Second),
					Polygon: scene.Polygon{{X: 0.6, Y: 0.1}, {X: 0.9, Y: 0.1}, {X: 0.9, Y: 0.4}, {X: 0.6, Y: 0.4}}}},
			}
			e := newEngine(t, sc, Config{Aspect: float64(w) / float64(h)})
			const dt = 500 * time.Millisecond
			fr := frames(dt,
				tr{id: 1, class: "truck", pts: line(pt(0.2, 0.6), pt(0.5, 0.66), 12)},     // restricted lane
				tr{id: 2, class: "car", pts: line(pt(0.9, 0.72), pt(0.3, 0.6), 12)},       // wrong way
				tr{id: 3, class: "car", pts: jittered(hold(pt(0.75, 0.3), 50), 0.002, 9)}, // parked
			)
			seen := make(map[string]bool)
			for i, tracks := range fr {
				vs, err := e.Observe(t0.Add(time.Duration(i)*dt), &frame, tracks)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range vs {
					seen[v.Event.Type] = true
					img := checkSnapshot(t, v, w, h)
					img.Close()
				}
			}
			for _, typ := range []string{sink.TypeViolationRestrictedLane, sink.TypeViolationWrongWay, sink.TypeViolationIllegalParking} {
				if !seen[typ] {
					t.Errorf("no %s", typ)
				}
			}
		})
	}
}

// A malformed frame loses the snapshot, not the violation.
func TestSnapshotOfBadFrame(t *testing.T) {
	bad := &decode.Frame{Width: 100, Height: 100, Stride: 300, Pix: make([]byte, 10)}
	sc := kerb
	sc.Zones = append([]scene.Zone(nil), kerb.Zones...)
	sc.Zones[0].Dwell = scene.Duration(time.Second)
	e := newEngine(t, sc, Config{})
	var got []Violation
	var errs []error
	for i, tracks := range frames(time.Second, tr{id: 1, class: "car", pts: hold(pt(0.75, 0.65), 4)}) {
		v, err := e.Observe(t0.Add(time.Duration(i)*time.Second), bad, tracks)
		got = append(got, v...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(got) != 1 || got[0].Snapshot != nil || got[0].Event.Evidence.SnapshotSHA256 != "" {
		t.Fatalf("got %d violations (%+v), want one without a snapshot", len(got), got)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrSnapshot) {
		t.Errorf("errors %v, want one ErrSnapshot", errs)
	}
}

func TestObserveTimeBackwards(t *testing.T) {
	e := newEngine(t, kerb, Config{})
	if _, err := e.Observe(t0.Add(time.Second), nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Observe(t0, nil, []track.Track{{ID: 1}}); !errors.Is(err, ErrTimeBackwards) {
		t.Errorf("got %v, want ErrTimeBackwards", err)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"negative aspect", Config{Aspect: -1}, false},
		{"angle over 90", Config{WrongWayAngle: 120}, false},
		{"negative dwell", Config{Dwell: -time.Second}, false},
		{"JPEG quality 101", Config{JPEGQuality: 101}, false},
		{"NaN margin", Config{Margin: math.NaN()}, false},
	} {
		_, err := New("cam", scene.Scene{Camera: "cam"}, tc.cfg)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%s: got %v", tc.name, err)
		}
	}
}
