package counting

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/sink"
)

// Direction is the way a line was crossed.
type Direction string

// Directions of crossing, looking from the line's first point to its second.
const (
	// In is crossing from the left of the line to its right.
	In Direction = "in"
	// Out is crossing from the right of the line to its left.
	Out Direction = "out"
)

// Config tunes a Counter. The zero value gives the defaults.
type Config struct {
	// Margin is the hysteresis: how far from the line, as a fraction of the
	// box height, the reference point must be to be on a side. Defaults to
	// 0.25, several times the frame-to-frame jitter of a detector's bottom
	// edge, and small against the distance a vehicle travels between two
	// frames at 2–10 fps. (A first choice, to be measured by the accuracy
	// harness.)
	Margin float64
	// MinMargin is the least margin in units of the frame height, for small
	// far-away boxes. Defaults to 0.01.
	MinMargin float64
	// Aspect is the frame's width over its height, to measure distances
	// the same along x and y. Defaults to 16/9.
	Aspect float64
	// Interval is the length of the traffic.count aggregates; interval
	// boundaries are multiples of it since Go's zero time (whole minutes
	// for the default). Defaults to 1 minute.
	Interval time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Margin == 0 {
		c.Margin = 0.25
	}
	if c.MinMargin == 0 {
		c.MinMargin = 0.01
	}
	if c.Aspect == 0 {
		c.Aspect = 16.0 / 9
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	switch {
	case !(c.Margin > 0 && c.Margin <= 2):
		return c, fmt.Errorf("%w: Margin %g is outside (0, 2]", ErrInvalidConfig, c.Margin)
	case !(c.MinMargin > 0 && c.MinMargin < 0.5):
		return c, fmt.Errorf("%w: MinMargin %g is outside (0, 0.5)", ErrInvalidConfig, c.MinMargin)
	case !(c.Aspect > 0.1 && c.Aspect < 10):
		return c, fmt.Errorf("%w: Aspect %g is outside (0.1, 10)", ErrInvalidConfig, c.Aspect)
	case c.Interval < time.Second:
		return c, fmt.Errorf("%w: Interval %v is shorter than 1s", ErrInvalidConfig, c.Interval)
	}
	return c, nil
}

// Crossing is one counted crossing of a line.
type Crossing struct {
	// Line is the line's id.
	Line string
	// Direction is the way it was crossed.
	Direction Direction
	// TrackID is the id of the track that crossed.
	TrackID uint64
	// Class is the track's class when the crossing was counted.
	Class string
	// Confidence is the track's latest detection score.
	Confidence float32
	// Box is the track's box (normalised) when the crossing was counted.
	Box [4]float32
	// TS is the capture time of the frame on which the crossing was
	// counted: the one that took the track past the margin, or the one that
	// confirmed it.
	TS time.Time
}

// Key names one count: a line, a direction and a class.
type Key struct {
	// Line is the line's id.
	Line string
	// Direction is the way the line was crossed.
	Direction Direction
	// Class is the class counted.
	Class string
}

// Total is the count of one Key since the Counter started.
type Total struct {
	Key
	// Count is the number of crossings.
	Count int
}

// Counter counts crossings of a scene's lines. Create it with New.
type Counter struct {
	camera string
	cfg    Config
	lines  []line
	tracks map[uint64]*trackState
	totals map[Key]int

	start      time.Time // first frame
	bucket     time.Time // start of the open interval; zero before the first frame
	first      time.Time // first and last frame of the open interval
	last       time.Time
	bucketKeys map[Key]int
}

// line is a counting line in aspect-corrected units.
type line struct {
	id      string
	seg     scene.Segment
	classes []string // empty: all
	anchor  scene.Anchor
}

type trackState struct {
	lines []lineState
}

type lineState struct {
	side    int8 // established side: -1 left, +1 right, 0 not yet known
	crossed bool // the path passed through the segment since leaving side
	hasLast bool
	last    scene.Point
	counted [2]bool // In, Out already counted
	pending [2]bool // completed while the track was tentative
}

// New returns a counter for camera's lines (from a validated scene), or an
// error wrapping ErrInvalidConfig.
func New(camera string, lines []scene.Line, cfg Config) (*Counter, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	k := &Counter{
		camera:     camera,
		cfg:        c,
		tracks:     make(map[uint64]*trackState),
		totals:     make(map[Key]int),
		bucketKeys: make(map[Key]int),
	}
	for _, l := range lines {
		s := l.Segment()
		k.lines = append(k.lines, line{
			id:      l.ID,
			seg:     scene.Segment{A: k.scale(s.A), B: k.scale(s.B)},
			classes: l.Classes,
			anchor:  l.Anchor,
		})
	}
	return k, nil
}

// scale maps a normalised point to units of the frame height.
func (c *Counter) scale(p scene.Point) scene.Point {
	return scene.Point{X: p.X * c.cfg.Aspect, Y: p.Y}
}

// Update takes every live track of the frame captured at ts and returns the
// crossings counted on it, and the traffic.count events of the intervals
// that ended before ts. Times must not go backwards.
func (c *Counter) Update(ts time.Time, tracks []track.Track) ([]Crossing, []sink.Event) {
	var events []sink.Event
	b := ts.Truncate(c.cfg.Interval)
	if c.start.IsZero() {
		c.start = ts
	}
	if c.bucket.IsZero() {
		c.bucket, c.first = b, ts
	} else if b.After(c.bucket) {
		events = c.close()
		c.bucket, c.first = b, ts
	}
	c.last = ts

	var out []Crossing
	live := make(map[uint64]bool, len(tracks))
	for i := range tracks {
		tk := &tracks[i]
		live[tk.ID] = true
		st := c.tracks[tk.ID]
		if st == nil {
			st = &trackState{lines: make([]lineState, len(c.lines))}
			c.tracks[tk.ID] = st
			c.replay(tk, st)
		}
		for li := range c.lines {
			out = c.step(out, ts, tk, &c.lines[li], &st.lines[li])
		}
	}
	maps.DeleteFunc(c.tracks, func(id uint64, _ *trackState) bool { return !live[id] })
	return out, events
}

// replay runs a track first seen now through the observations its trail
// holds from before this frame (and since the counter started): a track the
// tracker started on a faint box of the previous frame was somewhere else
// then, maybe on the other side of a line.
func (c *Counter) replay(tk *track.Track, st *trackState) {
	for _, o := range tk.Trail {
		if o.TS.Before(c.start) || !o.TS.Before(c.last) {
			continue
		}
		past := track.Track{ID: tk.ID, Class: tk.Class, Box: o.Box, Updated: true}
		for li := range c.lines {
			c.step(nil, o.TS, &past, &c.lines[li], &st.lines[li])
		}
	}
}

// step advances one track against one line and appends what counts.
func (c *Counter) step(out []Crossing, ts time.Time, tk *track.Track, l *line, ls *lineState) []Crossing {
	if tk.Updated {
		p := c.scale(l.anchor.Point(tk.Box, tk.Class))
		d := l.seg.Distance(p)
		margin := max(c.cfg.Margin*float64(tk.Box[3]-tk.Box[1]), c.cfg.MinMargin)
		switch {
		case ls.side == 0:
			if d >= margin {
				ls.side = 1
			} else if d <= -margin {
				ls.side = -1
			}
		default:
			s := int8(sign(d))
			if s == ls.side {
				ls.crossed = false // back on its own side
			} else if s == -ls.side && ls.hasLast && l.seg.Intersects(scene.Segment{A: ls.last, B: p}) {
				ls.crossed = true
			}
			if d*float64(-ls.side) >= margin { // past the margin on the other side
				dir := In
				if ls.side > 0 {
					dir = Out
				}
				if ls.crossed {
					ls.pending[dirIndex(dir)] = true
				}
				ls.side, ls.crossed = -ls.side, false
			}
		}
		ls.last, ls.hasLast = p, true
	}
	if !tk.Confirmed {
		return out
	}
	for _, dir := range [2]Direction{In, Out} {
		i := dirIndex(dir)
		if !ls.pending[i] {
			continue
		}
		ls.pending[i] = false
		if ls.counted[i] || (len(l.classes) > 0 && !slices.Contains(l.classes, tk.Class)) {
			continue
		}
		ls.counted[i] = true
		k := Key{Line: l.id, Direction: dir, Class: tk.Class}
		c.totals[k]++
		c.bucketKeys[k]++
		out = append(out, Crossing{
			Line: l.id, Direction: dir, TrackID: tk.ID, Class: tk.Class,
			Confidence: tk.Confidence, Box: tk.Box, TS: ts,
		})
	}
	return out
}

// Flush returns the traffic.count events of the open interval (at the end
// of a file or on shutdown) and closes it.
func (c *Counter) Flush() []sink.Event {
	if c.bucket.IsZero() {
		return nil
	}
	ev := c.close()
	c.bucket = time.Time{}
	return ev
}

// close returns one traffic.count event per line for the open interval
// and empties it.
//
// Each event carries the line (Line), the interval's start (TS), the
// crossings per class in both directions (Counts), and in Measures: "in"
// and "out", the totals per direction; "in.<class>" and "out.<class>",
// the counts per direction and class; "interval_s", the interval's length;
// and "observed_s", the time from its first to its last analysed frame (an
// interval the camera was down for part of has a short observed_s). Lines
// with no crossing still get an event: zero is a measurement.
func (c *Counter) close() []sink.Event {
	events := make([]sink.Event, 0, len(c.lines))
	for _, l := range c.lines {
		ev := sink.NewEvent(sink.TypeTrafficCount, c.camera, c.bucket)
		ev.Line = l.id
		ev.Counts = make(map[string]int)
		ev.Measures = map[string]float64{
			"in": 0, "out": 0,
			"interval_s": c.cfg.Interval.Seconds(),
			"observed_s": c.last.Sub(c.first).Seconds(),
		}
		for k, n := range c.bucketKeys {
			if k.Line != l.id {
				continue
			}
			ev.Counts[k.Class] += n
			ev.Measures[string(k.Direction)] += float64(n)
			ev.Measures[string(k.Direction)+"."+k.Class] += float64(n)
		}
		events = append(events, ev)
	}
	clear(c.bucketKeys)
	return events
}

// Totals returns every non-zero count since the counter started, ordered
// by line, direction and class.
func (c *Counter) Totals() []Total {
	out := make([]Total, 0, len(c.totals))
	for k, n := range c.totals {
		out = append(out, Total{Key: k, Count: n})
	}
	slices.SortFunc(out, func(a, b Total) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Direction, b.Direction), cmp.Compare(a.Class, b.Class))
	})
	return out
}

func dirIndex(d Direction) int {
	if d == In {
		return 0
	}
	return 1
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
