package violation

import (
	"fmt"
	"math"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/ingest/decode"
)

// SignalState is the colour a signal head shows.
type SignalState string

// Signal states. Only SignalRed makes a red-light violation; the rule never
// acts on SignalUnknown.
const (
	// SignalUnknown is no lit lamp seen, or no clear colour.
	SignalUnknown SignalState = "unknown"
	// SignalRed is the red lamp lit.
	SignalRed SignalState = "red"
	// SignalAmber is the amber (yellow) lamp lit.
	SignalAmber SignalState = "amber"
	// SignalGreen is the green lamp lit.
	SignalGreen SignalState = "green"
)

// Valid reports whether s is one of the four states.
func (s SignalState) Valid() bool {
	switch s {
	case SignalUnknown, SignalRed, SignalAmber, SignalGreen:
		return true
	}
	return false
}

// SignalSource says where a signal state came from.
type SignalSource string

// Signal sources.
const (
	// SourceCamera is the colour read from the signal head's ROI.
	SourceCamera SignalSource = "camera"
	// SourceFeed is the external signal-phase feed (SetSignal).
	SourceFeed SignalSource = "feed"
)

// SignalReading is the state of one signal head as of the latest Observe.
type SignalReading struct {
	// ID is the signal's id in the scene.
	ID string
	// State is the colour shown.
	State SignalState
	// Since is the capture time of the first frame of the current state.
	Since time.Time
	// Source is where the state came from.
	Source SignalSource
}

// Reading a lit lamp from the pixels of a signal head's ROI. A lit lamp is
// the brightest thing in a tight box around the head, and coloured; the
// housing is dark grey and glare or sky are bright but grey.
const (
	// lampMinValue is the least brightness (0–255) of the brightest pixel
	// for any lamp to count as lit: lit LED lamps drive the sensor near
	// saturation by day and by night, an unlit housing stays far below.
	lampMinValue = 150
	// lampValueShare selects the lamp: pixels at least this share of the
	// brightest one. Lower than 1 so that the coloured halo around an
	// overexposed, white-looking lamp core is included.
	lampValueShare = 0.6
	// lampMinSaturation is the least colour purity of a lamp pixel;
	// white glare and an overexposed core have less and do not vote.
	lampMinSaturation = 0.35
	// lampMinShare is the least share of the ROI's pixels that must vote
	// for a colour: one lamp of a three-lamp head covers about a tenth of
	// a tight ROI, a few hot pixels are not a lamp.
	lampMinShare = 0.02
	// lampMajority is the share of the votes the winning colour needs;
	// anything more mixed is unknown.
	lampMajority = 0.7
	// lampMinPixels is the smallest ROI, in pixels, that is read at all.
	lampMinPixels = 16
)

// Hue bands in degrees: red wraps round 0; LED greens are bluish.
func hueColour(h float64) SignalState {
	switch {
	case h < 20 || h >= 330:
		return SignalRed
	case h >= 20 && h < 65:
		return SignalAmber
	case h >= 85 && h < 200:
		return SignalGreen
	}
	return SignalUnknown
}

// ReadSignal reads the colour of the lit lamp inside the ROI with corners
// lo and hi (normalised) of a BGR24 frame: the ROI's brightest pixels vote
// by their hue for red, amber or green when they are bright and coloured
// enough, and the colour with a clear majority wins. No lit lamp, too few
// votes or no majority give SignalUnknown, as does a malformed frame.
func ReadSignal(f *decode.Frame, lo, hi scene.Point) SignalState {
	if !frameOK(f) {
		return SignalUnknown
	}
	x0, y0 := clampPix(lo.X, f.Width, math.Floor), clampPix(lo.Y, f.Height, math.Floor)
	x1, y1 := clampPix(hi.X, f.Width, math.Ceil), clampPix(hi.Y, f.Height, math.Ceil)
	n := (x1 - x0) * (y1 - y0)
	if x1 <= x0 || y1 <= y0 || n < lampMinPixels {
		return SignalUnknown
	}
	var vmax byte
	for y := y0; y < y1; y++ {
		row := f.Pix[y*f.Stride+3*x0 : y*f.Stride+3*x1]
		for i := 0; i < len(row); i += 3 {
			vmax = max(vmax, row[i], row[i+1], row[i+2])
		}
	}
	if vmax < lampMinValue {
		return SignalUnknown
	}
	vmin := lampValueShare * float64(vmax)
	var votes [4]int // unknown, red, amber, green
	total := 0
	for y := y0; y < y1; y++ {
		row := f.Pix[y*f.Stride+3*x0 : y*f.Stride+3*x1]
		for i := 0; i < len(row); i += 3 {
			h, s, v := hsv(row[i], row[i+1], row[i+2])
			if v < vmin || s < lampMinSaturation {
				continue
			}
			c := hueColour(h)
			if c == SignalUnknown {
				continue
			}
			votes[colourIndex(c)]++
			total++
		}
	}
	if float64(total) < lampMinShare*float64(n) {
		return SignalUnknown
	}
	for _, c := range [3]SignalState{SignalRed, SignalAmber, SignalGreen} {
		if float64(votes[colourIndex(c)]) >= lampMajority*float64(total) {
			return c
		}
	}
	return SignalUnknown
}

func colourIndex(c SignalState) int {
	switch c {
	case SignalRed:
		return 1
	case SignalAmber:
		return 2
	case SignalGreen:
		return 3
	}
	return 0
}

// hsv converts a BGR pixel to hue (degrees), saturation (0–1) and value
// (0–255).
func hsv(b, g, r byte) (h, s, v float64) {
	mx := max(r, g, b)
	mn := min(r, g, b)
	v = float64(mx)
	if mx == 0 {
		return 0, 0, 0
	}
	d := float64(mx - mn)
	s = d / v
	if d == 0 {
		return 0, s, v
	}
	switch mx {
	case r:
		h = 60 * math.Mod((float64(g)-float64(b))/d, 6)
	case g:
		h = 60 * ((float64(b)-float64(r))/d + 2)
	default:
		h = 60 * ((float64(r)-float64(g))/d + 4)
	}
	if h < 0 {
		h += 360
	}
	return h, s, v
}

// clampPix maps a normalised coordinate to a pixel index in 0..size.
func clampPix(v float64, size int, round func(float64) float64) int {
	return int(math.Max(0, math.Min(float64(size), round(v*float64(size)))))
}

// frameOK reports whether f is a usable BGR24 frame.
func frameOK(f *decode.Frame) bool {
	return f != nil && f.Width > 0 && f.Height > 0 && f.Stride >= 3*f.Width &&
		len(f.Pix) >= (f.Height-1)*f.Stride+3*f.Width
}

// signal is one signal head and its state.
type signal struct {
	id    string
	lo    scene.Point // ROI corners, normalised
	hi    scene.Point
	stop  scene.Segment // stop line, normalised (for drawing)
	stopS scene.Segment // stop line, aspect-scaled

	state  SignalState
	since  time.Time
	source SignalSource
	feed   [2]feedState // the two latest feed states, newest first
}

// feedState is one state given by SetSignal.
type feedState struct {
	state SignalState
	ts    time.Time
}

// fromFeed returns the feed's state for a frame captured at ts: the newest
// state given at or before ts, while younger than ttl.
func (s *signal) fromFeed(ts time.Time, ttl time.Duration) (SignalState, bool) {
	for _, f := range s.feed {
		if f.ts.IsZero() || f.ts.After(ts) {
			continue
		}
		if ts.Sub(f.ts) <= ttl {
			return f.state, true
		}
		return "", false
	}
	return "", false
}

// update sets the signal's state for the frame captured at ts. Without a
// fresh feed state it reads the colour from f at full size (f.Full); an
// error converting it leaves the state unknown and is returned.
func (s *signal) update(ts time.Time, f *decode.Frame, ttl time.Duration) error {
	st, ok := s.fromFeed(ts, ttl)
	src := SourceFeed
	var err error
	if !ok {
		st, src = SignalUnknown, SourceCamera
		if f != nil {
			var full *decode.Frame
			if full, err = f.Full(); err == nil {
				st = ReadSignal(full, s.lo, s.hi)
			} else {
				err = fmt.Errorf("violation: signal %s: %w", s.id, err)
			}
		}
	}
	if st != s.state || s.since.IsZero() {
		s.since = ts
	}
	s.state, s.source = st, src
	return err
}
