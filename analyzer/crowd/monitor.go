package crowd

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/sink"
)

// Config tunes a Monitor. The zero value gives the defaults.
type Config struct {
	// Smoothing is the time constant of the level the alert watches.
	// Defaults to 2 s: a few frames at 2–10 fps, short against any hold.
	Smoothing time.Duration
	// Hold is the hold time of zones that set none. Defaults to 10 s: a
	// group walking through a zone is not a crowd.
	Hold time.Duration
	// Coast is how long a confirmed track the detector missed still counts.
	// Defaults to 1 s.
	Coast time.Duration
	// Grid is the number of cells per side of the density grid. Defaults
	// to 4.
	Grid int
}

func (c Config) withDefaults() (Config, error) {
	if c.Smoothing == 0 {
		c.Smoothing = 2 * time.Second
	}
	if c.Hold == 0 {
		c.Hold = 10 * time.Second
	}
	if c.Coast == 0 {
		c.Coast = time.Second
	}
	if c.Grid == 0 {
		c.Grid = 4
	}
	switch {
	case c.Smoothing < 0:
		return c, fmt.Errorf("%w: Smoothing %v is negative", ErrInvalidConfig, c.Smoothing)
	case c.Hold < 0:
		return c, fmt.Errorf("%w: Hold %v is negative", ErrInvalidConfig, c.Hold)
	case c.Coast < 0:
		return c, fmt.Errorf("%w: Coast %v is negative", ErrInvalidConfig, c.Coast)
	case c.Grid < 1 || c.Grid > 32:
		return c, fmt.Errorf("%w: Grid %d is outside 1..32", ErrInvalidConfig, c.Grid)
	}
	return c, nil
}

// defaultClasses are the classes a crowd zone counts when it lists none.
var defaultClasses = []string{"person"}

// clearRatio is the clear level of a zone that sets none, as a fraction of
// its threshold: a 20 % margin keeps a level hovering at the threshold from
// raising an alert at every wobble.
const clearRatio = 0.8

// ZoneCount is one zone's state after a frame.
type ZoneCount struct {
	// Zone is the zone's id.
	Zone string
	// Count is the people counted in the zone in this frame.
	Count int
	// Density is Count per m² when the zone's area is known, else 0.
	Density float64
	// Level is the smoothed count (or density) the alert watches.
	Level float64
	// Alert is whether the zone is in alert.
	Alert bool
	// Grid is the people per cell of the zone's density grid in this frame,
	// row by row from the top-left of the zone's bounding box.
	Grid []int
}

// ZoneSummary is what a zone saw since the Monitor started.
type ZoneSummary struct {
	// Zone is the zone's id.
	Zone string
	// Frames is the number of frames seen.
	Frames int
	// Peak is the largest count in one frame.
	Peak int
	// PeakAt is the capture time of the first frame with the Peak count.
	PeakAt time.Time
	// Mean is the mean count per frame.
	Mean float64
	// PeakDensity and MeanDensity are the same in people per m² (0
	// without the zone's area).
	PeakDensity, MeanDensity float64
	// Alerts is the number of alerts raised.
	Alerts int
	// GridSize is the number of cells per side of Grid.
	GridSize int
	// Grid is the mean people per cell, row by row.
	Grid []float64
}

// Monitor watches the crowd zones of one camera. Create it with New.
type Monitor struct {
	camera string
	cfg    Config
	zones  []*zone
	last   time.Time
}

// zone is one crowd zone's settings and state.
type zone struct {
	scene.Zone
	classes []string
	clear   float64
	hold    time.Duration
	lo, hi  scene.Point // bounding box

	level    float64
	started  bool
	alert    bool
	since    time.Time // start of the current run above threshold (idle) or below clear (in alert)
	grid     []int
	perClass map[string]int // people per class in the current frame
	gridSum  []float64
	frames   int
	sum      int
	peak     int
	peakAt   time.Time
	alerts   int
}

// New returns a monitor of camera's crowd zones; zones of other kinds are
// ignored. The zones come from a validated scene.
func New(camera string, zones []scene.Zone, cfg Config) (*Monitor, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Monitor{camera: camera, cfg: c}
	for _, z := range zones {
		if z.Kind != scene.ZoneCrowd {
			continue
		}
		st := &zone{
			Zone:     z,
			classes:  z.Classes,
			clear:    z.Clear,
			hold:     z.Hold.D(),
			grid:     make([]int, c.Grid*c.Grid),
			gridSum:  make([]float64, c.Grid*c.Grid),
			perClass: make(map[string]int),
		}
		if len(st.classes) == 0 {
			st.classes = defaultClasses
		}
		if st.clear == 0 {
			st.clear = clearRatio * z.Threshold
		}
		if st.hold == 0 {
			st.hold = c.Hold
		}
		st.lo, st.hi = z.Polygon.Bounds()
		m.zones = append(m.zones, st)
	}
	return m, nil
}

// Update counts the people of every crowd zone in the frame captured at ts
// from every live track, and returns each zone's state and the alert.crowd
// events raised on this frame. Times must not go backwards.
func (m *Monitor) Update(ts time.Time, tracks []track.Track) ([]ZoneCount, []sink.Event) {
	var dt float64
	if !m.last.IsZero() {
		dt = ts.Sub(m.last).Seconds()
	}
	m.last = ts
	out := make([]ZoneCount, 0, len(m.zones))
	var events []sink.Event
	for _, z := range m.zones {
		count := z.count(ts, tracks, m.cfg)
		density := 0.0
		if z.AreaM2 > 0 {
			density = float64(count) / z.AreaM2
		}
		raw := float64(count)
		if z.AreaM2 > 0 {
			raw = density
		}
		if !z.started || m.cfg.Smoothing == 0 {
			z.level, z.started = raw, true
		} else {
			a := 1 - math.Exp(-dt/m.cfg.Smoothing.Seconds())
			z.level += a * (raw - z.level)
		}
		z.record(ts, count)
		if ev, ok := z.step(ts, count, density, m.camera); ok {
			events = append(events, ev)
		}
		out = append(out, ZoneCount{
			Zone: z.ID, Count: count, Density: density, Level: z.level, Alert: z.alert,
			Grid: slices.Clone(z.grid),
		})
	}
	return out, events
}

// count counts the people in the zone and fills its grid.
func (z *zone) count(ts time.Time, tracks []track.Track, cfg Config) int {
	clear(z.grid)
	clear(z.perClass)
	n := 0
	g := cfg.Grid
	for i := range tracks {
		tk := &tracks[i]
		if !tk.Confirmed || (!tk.Updated && ts.Sub(tk.LastSeen) > cfg.Coast) || !slices.Contains(z.classes, tk.Class) {
			continue
		}
		p := scene.BottomCentre(tk.Box)
		if !z.Polygon.Contains(p) {
			continue
		}
		n++
		z.perClass[tk.Class]++
		col := cell(p.X, z.lo.X, z.hi.X, g)
		row := cell(p.Y, z.lo.Y, z.hi.Y, g)
		z.grid[row*g+col]++
	}
	return n
}

// cell returns the index of v's cell among g cells spanning lo..hi.
func cell(v, lo, hi float64, g int) int {
	if hi <= lo {
		return 0
	}
	return min(max(int((v-lo)/(hi-lo)*float64(g)), 0), g-1)
}

// record adds the frame to the zone's summary.
func (z *zone) record(ts time.Time, count int) {
	z.frames++
	z.sum += count
	if count > z.peak || z.frames == 1 {
		z.peak, z.peakAt = count, ts
	}
	for i, n := range z.grid {
		z.gridSum[i] += float64(n)
	}
}

// step runs the alert's state machine; it returns the event when the
// alert is raised.
func (z *zone) step(ts time.Time, count int, density float64, camera string) (sink.Event, bool) {
	if z.Threshold <= 0 {
		return sink.Event{}, false
	}
	if !z.alert {
		if z.level < z.Threshold {
			z.since = time.Time{}
			return sink.Event{}, false
		}
		if z.since.IsZero() {
			z.since = ts
		}
		if ts.Sub(z.since) < z.hold {
			return sink.Event{}, false
		}
		z.alert, z.alerts = true, z.alerts+1
		ev := sink.NewEvent(sink.TypeAlertCrowd, camera, ts)
		ev.Zone = z.ID
		ev.Counts = maps.Clone(z.perClass)
		ev.Measures = map[string]float64{
			"count":     float64(count),
			"level":     z.level,
			"threshold": z.Threshold,
			"held_s":    ts.Sub(z.since).Seconds(),
		}
		if z.AreaM2 > 0 {
			ev.Measures["density"] = density
			ev.Measures["area_m2"] = z.AreaM2
		}
		z.since = time.Time{}
		return ev, true
	}
	if z.level > z.clear {
		z.since = time.Time{}
		return sink.Event{}, false
	}
	if z.since.IsZero() {
		z.since = ts
	}
	if ts.Sub(z.since) >= z.hold {
		z.alert, z.since = false, time.Time{}
	}
	return sink.Event{}, false
}

// Summary returns what each crowd zone saw since the Monitor started, in
// the scene's order.
func (m *Monitor) Summary() []ZoneSummary {
	out := make([]ZoneSummary, 0, len(m.zones))
	for _, z := range m.zones {
		s := ZoneSummary{Zone: z.ID, Frames: z.frames, Peak: z.peak, PeakAt: z.peakAt, Alerts: z.alerts,
			GridSize: m.cfg.Grid, Grid: make([]float64, len(z.gridSum))}
		if z.frames > 0 {
			s.Mean = float64(z.sum) / float64(z.frames)
			for i, v := range z.gridSum {
				s.Grid[i] = v / float64(z.frames)
			}
		}
		if z.AreaM2 > 0 {
			s.PeakDensity, s.MeanDensity = float64(s.Peak)/z.AreaM2, s.Mean/z.AreaM2
		}
		out = append(out, s)
	}
	return out
}
