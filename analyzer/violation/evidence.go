package violation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// Colours of the snapshot drawing.
var (
	offenderColour = color.RGBA{R: 255, G: 0, B: 255, A: 255} // magenta: stands out of road scenes
	ruleColour     = color.RGBA{R: 255, G: 220, B: 0, A: 255} // yellow: lanes and zones
	textColour     = color.RGBA{R: 255, G: 255, B: 255, A: 255}
	bandColour     = color.RGBA{A: 255}
)

// stateColour is how a signal state is drawn.
func stateColour(s SignalState) color.RGBA {
	switch s {
	case SignalRed:
		return color.RGBA{R: 255, A: 255}
	case SignalAmber:
		return color.RGBA{R: 255, G: 160, A: 255}
	case SignalGreen:
		return color.RGBA{G: 220, A: 255}
	}
	return color.RGBA{R: 160, G: 160, B: 160, A: 255}
}

// violation builds the event of act a by track tk on the frame captured at
// ts, with its evidence.
func (e *Engine) violation(ts time.Time, f *decode.Frame, tk *track.Track, a act) (Violation, error) {
	ev := sink.NewEvent(a.rule, e.camera, ts)
	ev.Object = &sink.Object{TrackID: int64(tk.ID), Class: tk.Class, Confidence: tk.Confidence, Box: tk.Box}
	if a.signal >= 0 {
		ev.Line = e.place(a)
	} else {
		ev.Zone = e.place(a)
	}
	ev.Detail, ev.Measures = a.detail, a.measures
	ev.Evidence = &sink.Evidence{ClipFrom: ev.TS.Add(-e.cfg.ClipBefore), ClipTo: ev.TS.Add(e.cfg.ClipAfter)}
	v := Violation{Event: ev}
	if f == nil {
		return v, nil
	}
	full, err := f.Full() // evidence: plates must stay legible
	var jpg []byte
	if err == nil {
		jpg, err = e.snapshot(full, tk, a, ev)
	}
	if err != nil {
		return v, fmt.Errorf("violation: %s of track %d: %w: %w", a.rule, tk.ID, ErrSnapshot, err)
	}
	sum := sha256.Sum256(jpg)
	v.Event.Evidence.SnapshotSHA256 = hex.EncodeToString(sum[:])
	v.Snapshot = jpg
	return v, nil
}

// snapshot draws the rule and the offender on a copy of f and encodes it
// as JPEG.
func (e *Engine) snapshot(f *decode.Frame, tk *track.Track, a act, ev sink.Event) ([]byte, error) {
	if !frameOK(f) {
		return nil, errors.New("malformed frame")
	}
	pix := make([]byte, 3*f.Width*f.Height) // drawn on, so never the caller's
	for y := range f.Height {
		copy(pix[y*3*f.Width:(y+1)*3*f.Width], f.Pix[y*f.Stride:])
	}
	img, err := gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8UC3, pix)
	if err != nil {
		return nil, fmt.Errorf("wrap frame: %w", err)
	}
	defer img.Close()
	c := newCanvas(&img, f.Width, f.Height)
	switch {
	case a.signal >= 0:
		c.signal(&e.signals[a.signal])
	case a.lane >= 0:
		c.lane(&e.lanes[a.lane])
	case a.zone >= 0:
		c.zone(&e.zones[a.zone])
	}
	c.offender(tk)
	c.band(fmt.Sprintf("%s  camera %s  %s", ev.Type, e.camera, ev.TS.Format("2006-01-02 15:04:05.000Z07:00")))

	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, img, []int{gocv.IMWriteJpegQuality, e.cfg.JPEGQuality})
	if err != nil {
		return nil, fmt.Errorf("encode JPEG: %w", err)
	}
	defer buf.Close()
	jpg := bytes.Clone(buf.GetBytes())
	if len(jpg) == 0 {
		return nil, errors.New("encode JPEG: no output")
	}
	return jpg, nil
}

// canvas draws in normalised coordinates on a picture.
type canvas struct {
	img   *gocv.Mat
	w, h  int
	thick int     // line thickness in pixels
	font  float64 // font scale
}

func newCanvas(img *gocv.Mat, w, h int) canvas {
	return canvas{img: img, w: w, h: h, thick: max(1, h/360), font: math.Max(0.4, float64(h)/1080)}
}

func (c canvas) pt(p scene.Point) image.Point {
	return image.Pt(int(math.Round(p.X*float64(c.w))), int(math.Round(p.Y*float64(c.h))))
}

func (c canvas) boxPt(x, y float32) image.Point {
	return c.pt(scene.Point{X: float64(x), Y: float64(y)})
}

// label writes text on a dark background with its bottom-left corner at
// org, kept inside the picture.
func (c canvas) label(text string, org image.Point, col color.RGBA) {
	text = ascii(text)
	size := gocv.GetTextSize(text, gocv.FontHersheySimplex, c.font, 1)
	org.X = max(0, min(org.X, c.w-size.X-4))
	org.Y = max(size.Y+4, min(org.Y, c.h))
	gocv.Rectangle(c.img, image.Rect(org.X, org.Y-size.Y-4, org.X+size.X+4, org.Y+2), bandColour, -1)
	gocv.PutText(c.img, text, image.Pt(org.X+2, org.Y-2), gocv.FontHersheySimplex, c.font, col, 1)
}

// band writes the header line at the top of the picture.
func (c canvas) band(text string) { c.label(text, image.Pt(0, 0), textColour) }

func (c canvas) polygon(pg scene.Polygon, col color.RGBA) {
	pts := make([]image.Point, len(pg))
	for i, p := range pg {
		pts[i] = c.pt(p)
	}
	v := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer v.Close()
	gocv.Polylines(c.img, v, true, col, c.thick)
}

// signal draws the signal head's ROI and its stop line in the state's
// colour, with the state written by the head.
func (c canvas) signal(s *signal) {
	col := stateColour(s.state)
	gocv.Rectangle(c.img, image.Rectangle{Min: c.pt(s.lo), Max: c.pt(s.hi)}, col, c.thick)
	gocv.Line(c.img, c.pt(s.stop.A), c.pt(s.stop.B), col, 2*c.thick)
	c.label(fmt.Sprintf("signal %s: %s (%s)", s.id, strings.ToUpper(string(s.state)), s.source),
		c.pt(scene.Point{X: s.lo.X, Y: s.hi.Y}).Add(image.Pt(0, 20*c.thick)), col)
	c.label("stop line", c.pt(s.stop.A), col)
}

// lane draws the lane's outline and an arrow along its direction from its
// middle.
func (c canvas) lane(l *lane) {
	c.polygon(l.norm, ruleColour)
	var mid scene.Point
	for _, p := range l.norm {
		mid.X += p.X / float64(len(l.norm))
		mid.Y += p.Y / float64(len(l.norm))
	}
	from := c.pt(mid)
	d := scene.Point{X: l.normDir.X * float64(c.w), Y: l.normDir.Y * float64(c.h)}
	n := 0.15 * float64(c.h) / d.Len()
	to := from.Add(image.Pt(int(d.X*n), int(d.Y*n)))
	gocv.ArrowedLine(c.img, from, to, ruleColour, 2*c.thick)
	text := "lane " + l.id
	if len(l.allowed) > 0 {
		text += " (allows " + strings.Join(l.allowed, ", ") + ")"
	}
	c.label(text, c.pt(l.norm[0]), ruleColour)
}

// zone draws the zone's outline and its rule.
func (c canvas) zone(z *zone) {
	c.polygon(z.norm, ruleColour)
	text := "restricted zone " + z.id
	if z.kind == scene.ZoneNoParking {
		text = fmt.Sprintf("no parking %s (dwell %s)", z.id, z.dwell)
	}
	c.label(text, c.pt(z.norm[0]), ruleColour)
}

// offender draws the track's box, its path and its label.
func (c canvas) offender(tk *track.Track) {
	for i := 1; i < len(tk.Trail); i++ {
		a, b := scene.BottomCentre(tk.Trail[i-1].Box), scene.BottomCentre(tk.Trail[i].Box)
		gocv.Line(c.img, c.pt(a), c.pt(b), offenderColour, c.thick)
	}
	b := tk.Box
	r := image.Rectangle{Min: c.boxPt(b[0], b[1]), Max: c.boxPt(b[2], b[3])}
	gocv.Rectangle(c.img, r, offenderColour, 2*c.thick)
	c.label(fmt.Sprintf("#%d %s %.2f", tk.ID, tk.Class, tk.Confidence), r.Min, offenderColour)
}

// ascii replaces what the Hershey fonts cannot draw.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r > 126 {
			return '?'
		}
		return r
	}, s)
}
