package violation

import (
	"errors"
	"image"
	"image/color"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/ingest/decode"
)

// A signal head drawn with OpenCV: a dark housing in the ROI (0.4, 0.1)–
// (0.6, 0.6) of a 200×200 frame with three lamps, top to bottom red, amber,
// green, each either lit (its colour) or dark (a dim tint of it).
var (
	headLo, headHi = pt(0.4, 0.1), pt(0.6, 0.6)
	lampCentres    = [3]image.Point{{100, 37}, {100, 70}, {100, 103}}
	litColours     = [3]color.RGBA{{R: 255, G: 40, B: 30, A: 255}, {R: 255, G: 180, A: 255}, {R: 20, G: 255, B: 170, A: 255}}
	darkColours    = [3]color.RGBA{{R: 70, G: 15, B: 15, A: 255}, {R: 70, G: 50, B: 10, A: 255}, {R: 10, G: 60, B: 40, A: 255}}
)

// head draws a frame; draw adds the lit parts.
func head(t *testing.T, housing color.RGBA, draw func(img *gocv.Mat)) *decode.Frame {
	t.Helper()
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(60, 60, 60, 0), 200, 200, gocv.MatTypeCV8UC3)
	defer img.Close()
	gocv.Rectangle(&img, image.Rect(82, 22, 118, 118), housing, -1)
	for i, c := range lampCentres {
		gocv.Circle(&img, c, 12, darkColours[i], -1)
	}
	if draw != nil {
		draw(&img)
	}
	return &decode.Frame{Width: 200, Height: 200, Stride: 600, Pix: img.ToBytes()}
}

func lit(lamps ...int) func(*gocv.Mat) {
	return func(img *gocv.Mat) {
		for _, i := range lamps {
			gocv.Circle(img, lampCentres[i], 12, litColours[i], -1)
		}
	}
}

func TestReadSignal(t *testing.T) {
	dark := color.RGBA{R: 25, G: 25, B: 25, A: 255}
	for _, tc := range []struct {
		name    string
		housing color.RGBA
		draw    func(*gocv.Mat)
		want    SignalState
	}{
		{"red lit", dark, lit(0), SignalRed},
		{"amber lit", dark, lit(1), SignalAmber},
		{"green lit", dark, lit(2), SignalGreen},
		{"no lamp lit", dark, nil, SignalUnknown},
		{"red and amber lit", dark, lit(0, 1), SignalUnknown},
		{"red lit, overexposed white core", dark, func(img *gocv.Mat) {
			lit(0)(img)
			gocv.Circle(img, lampCentres[0], 8, color.RGBA{R: 255, G: 250, B: 250, A: 255}, -1)
		}, SignalRed},
		{"white glare, no lamp", dark, func(img *gocv.Mat) {
			gocv.Circle(img, image.Pt(100, 60), 20, color.RGBA{R: 250, G: 250, B: 245, A: 255}, -1)
		}, SignalUnknown},
		{"sunlit grey housing, no lamp", color.RGBA{R: 215, G: 215, B: 205, A: 255}, nil, SignalUnknown},
		{"a few hot red pixels", dark, func(img *gocv.Mat) {
			gocv.Circle(img, lampCentres[0], 1, litColours[0], -1)
		}, SignalUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := head(t, tc.housing, tc.draw)
			if got := ReadSignal(f, headLo, headHi); got != tc.want {
				t.Errorf("packed rows: got %s, want %s", got, tc.want)
			}
			if got := ReadSignal(padded(f, 13), headLo, headHi); got != tc.want {
				t.Errorf("padded rows: got %s, want %s", got, tc.want)
			}
		})
	}
}

// padded returns f with pad bytes of garbage after each row.
func padded(f *decode.Frame, pad int) *decode.Frame {
	g := &decode.Frame{Width: f.Width, Height: f.Height, Stride: f.Stride + pad}
	g.Pix = make([]byte, g.Stride*g.Height)
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	for y := range f.Height {
		copy(g.Pix[y*g.Stride:], f.Pix[y*f.Stride:y*f.Stride+3*f.Width])
	}
	return g
}

func TestReadSignalBadInput(t *testing.T) {
	f := head(t, color.RGBA{A: 255}, lit(0))
	for _, tc := range []struct {
		name   string
		f      *decode.Frame
		lo, hi scene.Point
	}{
		{"nil frame", nil, headLo, headHi},
		{"short pixels", &decode.Frame{Width: 200, Height: 200, Stride: 600, Pix: f.Pix[:1000]}, headLo, headHi},
		{"ROI of a pixel", f, pt(0.5, 0.18), pt(0.501, 0.181)},
	} {
		if got := ReadSignal(tc.f, tc.lo, tc.hi); got != SignalUnknown {
			t.Errorf("%s: got %s, want unknown", tc.name, got)
		}
	}
}

// The external feed wins while fresh; the camera's reading is used
// otherwise.
func TestSignalSources(t *testing.T) {
	sc := scene.Scene{Signals: []scene.Signal{{ID: "main", ROI: []scene.Point{headLo, headHi},
		StopLine: []scene.Point{{X: 0.1, Y: 0.8}, {X: 0.9, Y: 0.8}}}}}
	green := head(t, color.RGBA{R: 25, G: 25, B: 25, A: 255}, lit(2))
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	for _, tc := range []struct {
		name   string
		feed   time.Time // zero: no feed
		frame  time.Time
		want   SignalState
		source SignalSource
	}{
		{"camera only", time.Time{}, sec(0), SignalGreen, SourceCamera},
		{"fresh feed", sec(0), sec(3), SignalRed, SourceFeed},
		{"stale feed", sec(0), sec(10.5), SignalGreen, SourceCamera},
		{"feed for a later time", sec(5), sec(3), SignalGreen, SourceCamera},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, sc, Config{})
			if !tc.feed.IsZero() {
				if err := e.SetSignal("main", SignalRed, tc.feed); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.Observe(tc.frame, green, nil); err != nil {
				t.Fatal(err)
			}
			got := e.Signals()[0]
			if got.State != tc.want || got.Source != tc.source {
				t.Errorf("got %s from %s, want %s from %s", got.State, got.Source, tc.want, tc.source)
			}
		})
	}

	e := newEngine(t, sc, Config{})
	if err := e.SetSignal("side", SignalRed, t0); !errors.Is(err, ErrUnknownSignal) {
		t.Errorf("unknown signal: got %v, want ErrUnknownSignal", err)
	}
	if err := e.SetSignal("main", "blue", t0); !errors.Is(err, ErrInvalidSignalState) {
		t.Errorf("blue: got %v, want ErrInvalidSignalState", err)
	}
}

// Since is the first frame of the current state.
func TestSignalSince(t *testing.T) {
	sc := scene.Scene{Signals: []scene.Signal{{ID: "main", ROI: []scene.Point{headLo, headHi},
		StopLine: []scene.Point{{X: 0.1, Y: 0.8}, {X: 0.9, Y: 0.8}}}}}
	e := newEngine(t, sc, Config{})
	states := []SignalState{SignalGreen, SignalGreen, SignalAmber, SignalRed, SignalRed, SignalRed}
	for i, s := range states {
		ts := t0.Add(time.Duration(i) * time.Second)
		if err := e.SetSignal("main", s, ts); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Observe(ts, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.Signals()[0]; got.State != SignalRed || !got.Since.Equal(t0.Add(3*time.Second)) {
		t.Errorf("got %s since %v, want red since 3 s", got.State, got.Since.Sub(t0))
	}
}
