package analyzer_test

import (
	"errors"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/analyzer/violation"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// TestSignalFeed: a car drives over the stop line of a junction whose
// signal head the camera cannot read (a grey picture: no lamp lit). With
// the controller's feed saying red, handed to the pipeline from another
// goroutine while the rule runs, it is a red-light violation; without it
// the state is unknown and nothing is raised. A signal the scene lacks and
// a state that is none are refused at once.
func TestSignalFeed(t *testing.T) {
	sc := parseScene(t, `
camera: junction
signals:
  - id: main
    roi: [[0.05, 0.05], [0.10, 0.30]]
    stop_line: [[0.1, 0.6], [0.9, 0.6]]
`)
	const w, h = 640, 360
	grey := &decode.Frame{Width: w, Height: h, Stride: 3 * w, Pix: make([]byte, 3*w*h)}
	for i := range grey.Pix {
		grey.Pix[i] = 110
	}
	t0 := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	const dt = 500 * time.Millisecond
	drive := func(r *analyzer.ViolationRule) []sink.Event {
		var events []sink.Event
		var trail []track.Observation
		for i := range 16 { // bottom centre from y 0.21 to 0.96, over the line at frame 8
			ts := t0.Add(time.Duration(i) * dt)
			y := float32(0.21 + 0.05*float64(i))
			box := [4]float32{0.42, y - 0.2, 0.58, y}
			trail = append(trail, track.Observation{TS: ts, Box: box})
			tk := track.Track{ID: 7, Class: "car", Confidence: 0.8, Box: box, Velocity: [2]float32{0, 0.1},
				Confirmed: true, Updated: true, Born: t0, LastSeen: ts, Age: ts.Sub(t0), Hits: i + 1,
				Trail: append([]track.Observation(nil), trail...)}
			events = append(events, r.Observe(ts, grey, []track.Track{tk})...)
		}
		return events
	}

	for _, fed := range []bool{true, false} {
		rule, err := analyzer.NewViolationRule("junction", *sc, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := &analyzer.Pipeline{CameraID: "junction", Rules: []analyzer.Rule{rule}}
		done := make(chan error, 1)
		if fed { // the controller repeats the phase (red since t0) while the frames are analysed
			if err := p.SetSignal("main", violation.SignalRed, t0); err != nil {
				t.Fatal(err)
			}
			go func() {
				var err error
				for i := 0; i < 50 && err == nil; i++ {
					err = p.SetSignal("main", violation.SignalRed, t0)
				}
				done <- err
			}()
		} else {
			done <- nil
		}
		events := drive(rule)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := 0
		if fed {
			want = 1
		}
		if len(events) != want || (want == 1 && events[0].Type != sink.TypeViolationRedLight) {
			t.Errorf("feed %v: events %+v, want %d red-light violation(s)", fed, events, want)
		}
	}

	rule, err := analyzer.NewViolationRule("junction", *sc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &analyzer.Pipeline{CameraID: "junction", Rules: []analyzer.Rule{rule}}
	if err := p.SetSignal("side", violation.SignalRed, t0); !errors.Is(err, violation.ErrUnknownSignal) {
		t.Errorf("unknown signal: %v, want ErrUnknownSignal", err)
	}
	if err := p.SetSignal("main", "blue", t0); !errors.Is(err, violation.ErrInvalidSignalState) {
		t.Errorf("state blue: %v, want ErrInvalidSignalState", err)
	}
	if err := (&analyzer.Pipeline{CameraID: "x"}).SetSignal("main", violation.SignalRed, t0); !errors.Is(err, violation.ErrUnknownSignal) {
		t.Errorf("pipeline without rules: %v, want ErrUnknownSignal", err)
	}
}
