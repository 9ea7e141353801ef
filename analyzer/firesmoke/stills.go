package firesmoke

import (
	"fmt"
	"time"

	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// Detector finds fire and smoke in one picture and returns the boxes in
// that picture's pixels (for the engine: the analyzer's preprocessor and a
// models.Detector or Scheduler of a fire/smoke model). A tile given to it
// is a view into a larger frame: its Stride is the frame's and its rows
// are not packed.
type Detector interface {
	Detect(f *decode.Frame) ([]models.Detection, error)
}

// StillConfig tunes a Stills. The zero value gives the defaults.
type StillConfig struct {
	// Interval is the capture time between two stills. Defaults to 10 s.
	Interval time.Duration
	// InputSize is the side of the model's (square) input in pixels, e.g.
	// 640 for firesmoke_640. Required.
	InputSize int
	// TileScale sets the tile side as a multiple of InputSize, and a frame
	// is tiled when its longer side is more than TileScale × InputSize:
	// the model would otherwise shrink it more than that. Defaults to 2, so
	// a tile is shrunk at most 2× and a 1080p frame gives 2 tiles at 640.
	TileScale float64
	// Overlap is the fraction of the tile side neighbouring tiles share, so
	// that a plume on a tile border is whole in one of them. Defaults to 0.2.
	Overlap float64
	// NMSIoU is the IoU above which a box of the merged detections is
	// dropped for a better one of its class. Defaults to 0.5, the models'.
	NMSIoU float32
}

func (c StillConfig) withDefaults() (StillConfig, error) {
	if c.Interval == 0 {
		c.Interval = 10 * time.Second
	}
	if c.TileScale == 0 {
		c.TileScale = 2
	}
	if c.Overlap == 0 {
		c.Overlap = 0.2
	}
	if c.NMSIoU == 0 {
		c.NMSIoU = 0.5
	}
	switch {
	case c.Interval < 0:
		return c, fmt.Errorf("%w: Interval %v: expected a duration ≥ 0", ErrInvalidConfig, c.Interval)
	case c.InputSize < 32:
		return c, fmt.Errorf("%w: InputSize %d: expected the model's input side, at least 32 pixels", ErrInvalidConfig, c.InputSize)
	case !(c.TileScale >= 1 && c.TileScale <= 16):
		return c, fmt.Errorf("%w: TileScale %g: expected 1 to 16", ErrInvalidConfig, c.TileScale)
	case !(c.Overlap > 0 && c.Overlap < 0.5):
		return c, fmt.Errorf("%w: Overlap %g: expected a fraction in (0, 0.5)", ErrInvalidConfig, c.Overlap)
	case !(c.NMSIoU > 0 && c.NMSIoU < 1):
		return c, fmt.Errorf("%w: NMSIoU %g: expected (0, 1)", ErrInvalidConfig, c.NMSIoU)
	}
	return c, nil
}

// Stills runs a Detector on one full-resolution frame every Interval, whole
// and, when the frame is much larger than the model's input, in
// overlapping tiles, and merges the boxes in frame pixels. It is not safe
// for concurrent use.
type Stills struct {
	d    Detector
	cfg  StillConfig
	last time.Time // capture time of the last still; zero before the first
	all  []models.Detection
}

// NewStills returns a Stills running d.
func NewStills(d Detector, cfg StillConfig) (*Stills, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Stills{d: d, cfg: cfg}, nil
}

// Due reports whether a still is due for a frame captured at ts: the first
// frame, one Interval after the last still, or after time went back.
func (s *Stills) Due(ts time.Time) bool {
	return s.last.IsZero() || ts.Sub(s.last) >= s.cfg.Interval || ts.Before(s.last)
}

// Observe detects on f when a still is due at ts (see Due) and reports
// whether it did.
func (s *Stills) Observe(ts time.Time, f *decode.Frame) ([]models.Detection, bool, error) {
	if !s.Due(ts) {
		return nil, false, nil
	}
	dets, err := s.Detect(f)
	if err != nil {
		return nil, true, err
	}
	s.last = ts
	return dets, true, nil
}

// Tiles returns the tiles a w×h frame is cut into, as x0, y0, x1, y1 in
// frame pixels; nil when the frame is small enough to detect whole only.
func (s *Stills) Tiles(w, h int) [][4]int {
	side := int(s.cfg.TileScale * float64(s.cfg.InputSize))
	if max(w, h) <= side {
		return nil
	}
	xs, ys := spans(w, side, s.cfg.Overlap), spans(h, side, s.cfg.Overlap)
	tiles := make([][4]int, 0, len(xs)*len(ys))
	for _, y := range ys {
		for _, x := range xs {
			tiles = append(tiles, [4]int{x[0], y[0], x[1], y[1]})
		}
	}
	return tiles
}

// spans cuts [0, n) into the fewest pieces of length side overlapping by at
// least overlap × side, spread evenly; one piece when n ≤ side.
func spans(n, side int, overlap float64) [][2]int {
	if n <= side {
		return [][2]int{{0, n}}
	}
	step := float64(side) * (1 - overlap)
	k := 1
	for float64(side)+float64(k-1)*step < float64(n) {
		k++
	}
	out := make([][2]int, k)
	for i := range k {
		x := int(float64(i) * float64(n-side) / float64(k-1))
		out[i] = [2]int{x, x + side}
	}
	return out
}

// Detect runs the detector on the whole frame and on each tile (Tiles), and
// returns the detections in frame pixels after class-aware NMS, highest
// score first. The frame is read during the call only.
func (s *Stills) Detect(f *decode.Frame) ([]models.Detection, error) {
	if err := checkFrame(f); err != nil {
		return nil, fmt.Errorf("still: %w", err)
	}
	whole, err := s.d.Detect(f)
	if err != nil {
		return nil, fmt.Errorf("still: %w", err)
	}
	s.all = append(s.all[:0], whole...)
	for _, t := range s.Tiles(f.Width, f.Height) {
		off := t[1]*f.Stride + 3*t[0]
		tile := &decode.Frame{Width: t[2] - t[0], Height: t[3] - t[1], Stride: f.Stride, Pix: f.Pix[off:],
			PTS: f.PTS, Capture: f.Capture}
		dets, err := s.d.Detect(tile)
		if err != nil {
			return nil, fmt.Errorf("still: tile at %d,%d: %w", t[0], t[1], err)
		}
		for _, d := range dets {
			d.Box[0] += float32(t[0])
			d.Box[1] += float32(t[1])
			d.Box[2] += float32(t[0])
			d.Box[3] += float32(t[1])
			s.all = append(s.all, d)
		}
	}
	kept := models.NMS(s.all, s.cfg.NMSIoU)
	out := make([]models.Detection, len(kept))
	copy(out, kept)
	return out, nil
}
