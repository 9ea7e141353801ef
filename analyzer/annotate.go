package analyzer

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/analyzer/counting"
	"github.com/matthan/matthan/analyzer/scene"
)

// Colours of the annotated video (RGBA; gocv draws them as BGR).
var (
	colourLine      = color.RGBA{R: 255, G: 230, B: 0, A: 255}
	colourTentative = color.RGBA{R: 170, G: 170, B: 170, A: 255}
	colourAlert     = color.RGBA{R: 255, G: 0, B: 0, A: 255}
	colourText      = color.RGBA{R: 255, G: 255, B: 255, A: 255}
	colourPanel     = color.RGBA{A: 255}
	zoneColours     = map[scene.ZoneKind]color.RGBA{
		scene.ZoneCrowd:      {R: 0, G: 200, B: 255, A: 255},
		scene.ZoneNoParking:  {R: 255, G: 120, B: 0, A: 255},
		scene.ZoneRestricted: {R: 255, G: 0, B: 160, A: 255},
		scene.ZoneSmokeWatch: {R: 200, G: 200, B: 200, A: 255},
		scene.ZoneIgnore:     {R: 90, G: 90, B: 90, A: 255},
	}
	trackColours = map[string]color.RGBA{
		"person":     {R: 255, G: 64, B: 64, A: 255},
		"bicycle":    {R: 255, G: 160, B: 0, A: 255},
		"motorcycle": {R: 255, G: 0, B: 255, A: 255},
		"car":        {R: 0, G: 220, B: 0, A: 255},
		"bus":        {R: 0, G: 160, B: 255, A: 255},
		"truck":      {R: 0, G: 255, B: 255, A: 255},
	}
)

// Draw paints on img, the frame res was computed from (BGR, its full
// size), what a person needs to check the analysis by watching: the
// scene's zones, lanes, signals and counting lines (with the side that is
// "in"), the tracks with their ids (tentative ones thin and grey, a track
// counted on this frame thick), the counts so far per line and direction,
// the crowd zones' people counts, and the annotations of rules and
// analytics (signal states). A frame the detector skipped shows the latest
// tracks.
func (a *Analyst) Draw(img *gocv.Mat, res *Analysis) {
	w, h := img.Cols(), img.Rows()
	px := func(p scene.Point) image.Point {
		return image.Pt(int(math.Round(p.X*float64(w))), int(math.Round(p.Y*float64(h))))
	}
	box := func(b [4]float32) image.Rectangle {
		return image.Rect(int(b[0]*float32(w)), int(b[1]*float32(h)), int(b[2]*float32(w)), int(b[3]*float32(h)))
	}
	var panel []string
	if sc := a.cfg.Scene; sc != nil {
		zones := res.Zones
		if !res.Detected {
			zones = a.lastZones
		}
		for _, z := range sc.Zones {
			c := zoneColours[z.Kind]
			label := fmt.Sprintf("%s (%s)", z.ID, z.Kind)
			for _, zc := range zones {
				if zc.Zone == z.ID {
					label = fmt.Sprintf("%s: %d people", z.ID, zc.Count)
					if zc.Alert {
						c = colourAlert
						label += " ALERT"
					}
				}
			}
			polygon(img, z.Polygon, px, c, 1)
			lo, _ := z.Polygon.Bounds()
			text(img, label, px(lo).Add(image.Pt(2, 14)), c)
		}
		for _, l := range sc.Lanes {
			c := color.RGBA{R: 120, G: 255, B: 120, A: 255}
			polygon(img, l.Polygon, px, c, 1)
			mid := centroid(l.Polygon)
			d := l.Direction
			n := math.Hypot(d.X, d.Y)
			end := scene.Point{X: mid.X + 0.06*d.X/n, Y: mid.Y + 0.06*d.Y/n}
			gocv.ArrowedLine(img, px(mid), px(end), c, 2)
			text(img, l.ID, px(mid), c)
		}
		for _, s := range sc.Signals {
			lo, hi := s.Rect()
			gocv.Rectangle(img, image.Rectangle{Min: px(lo), Max: px(hi)}, colourText, 1)
			gocv.Line(img, px(s.StopLine[0]), px(s.StopLine[1]), colourText, 2)
			text(img, s.ID, px(hi).Add(image.Pt(2, 0)), colourText)
		}
		totals := a.Totals()
		for _, l := range sc.Lines {
			seg := l.Segment()
			gocv.Line(img, px(seg.A), px(seg.B), colourLine, 2)
			// The "in" side is the right of A→B: the normal (-dy, dx) in
			// screen units (y down).
			mid := scene.Point{X: (seg.A.X + seg.B.X) / 2, Y: (seg.A.Y + seg.B.Y) / 2}
			dx, dy := (seg.B.X-seg.A.X)*float64(w), (seg.B.Y-seg.A.Y)*float64(h)
			n := math.Hypot(dx, dy)
			if n > 0 {
				p := px(mid)
				q := image.Pt(p.X+int(-dy/n*25), p.Y+int(dx/n*25))
				gocv.ArrowedLine(img, p, q, colourLine, 1)
				text(img, "in", q, colourLine)
			}
			text(img, l.ID, px(seg.A).Add(image.Pt(3, -4)), colourLine)
			in, out := lineTotals(totals, l.ID)
			panel = append(panel, fmt.Sprintf("%s  in %d  out %d", l.ID, in, out))
		}
		tracks := res.Tracks
		if !res.Detected {
			tracks = a.lastTracks
		}
		counted := make(map[uint64]bool, len(res.Crossings))
		for _, c := range res.Crossings {
			counted[c.TrackID] = true
		}
		for _, tk := range tracks {
			c, thick := colourTentative, 1
			if tk.Confirmed {
				c, thick = trackColours[tk.Class], 2
				if c.A == 0 {
					c = color.RGBA{R: 255, G: 255, A: 255}
				}
			}
			if !tk.Updated {
				c = color.RGBA{R: c.R / 2, G: c.G / 2, B: c.B / 2, A: 255} // coasting on its prediction
			}
			if counted[tk.ID] {
				thick = 4
			}
			r := box(tk.Box)
			gocv.Rectangle(img, r, c, thick)
			text(img, fmt.Sprintf("#%d %s", tk.ID, tk.Class), r.Min.Add(image.Pt(0, -3)), c)
		}
	} else {
		for _, d := range res.Detections {
			r := image.Rect(int(d.Box[0]), int(d.Box[1]), int(d.Box[2]), int(d.Box[3]))
			gocv.Rectangle(img, r, trackColours[d.Class], 1)
		}
	}
	for _, x := range a.annotators() {
		for _, an := range x.Annotations() {
			c := colourText
			if an.Alert {
				c = colourAlert
			}
			if an.Box == ([4]float32{}) {
				panel = append(panel, an.Text)
				continue
			}
			r := box(an.Box)
			gocv.Rectangle(img, r, c, 2)
			text(img, an.Text, r.Min.Add(image.Pt(0, -3)), c)
		}
	}
	offset := res.Capture.Sub(FileEpoch)
	if offset < 0 || offset > 24*time.Hour {
		panel = append([]string{res.Capture.UTC().Format("15:04:05.000")}, panel...)
	} else {
		panel = append([]string{fmt.Sprintf("t = %.2f s", offset.Seconds())}, panel...)
	}
	y := 4
	for _, line := range panel {
		size := gocv.GetTextSize(line, gocv.FontHersheySimplex, 0.45, 1)
		gocv.Rectangle(img, image.Rect(4, y, 12+size.X, y+size.Y+8), colourPanel, -1)
		gocv.PutText(img, line, image.Pt(8, y+size.Y+4), gocv.FontHersheySimplex, 0.45, colourText, 1)
		y += size.Y + 10
	}
}

// annotators returns the rules and analytics that report a live state.
func (a *Analyst) annotators() []Annotator {
	var out []Annotator
	for _, r := range a.cfg.Rules {
		if x, ok := r.(Annotator); ok {
			out = append(out, x)
		}
	}
	for _, r := range a.cfg.Analytics {
		if x, ok := r.(Annotator); ok {
			out = append(out, x)
		}
	}
	return out
}

// lineTotals sums a line's counts per direction over classes.
func lineTotals(totals []counting.Total, line string) (in, out int) {
	for _, t := range totals {
		if t.Line != line {
			continue
		}
		if t.Direction == counting.In {
			in += t.Count
		} else {
			out += t.Count
		}
	}
	return in, out
}

func polygon(img *gocv.Mat, pg scene.Polygon, px func(scene.Point) image.Point, c color.RGBA, thick int) {
	pts := make([]image.Point, len(pg))
	for i, p := range pg {
		pts[i] = px(p)
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{pts})
	defer pv.Close()
	gocv.Polylines(img, pv, true, c, thick)
}

func centroid(pg scene.Polygon) scene.Point {
	var c scene.Point
	for _, p := range pg {
		c.X += p.X
		c.Y += p.Y
	}
	n := float64(len(pg))
	return scene.Point{X: c.X / n, Y: c.Y / n}
}

// text writes s at p (its baseline's start) in c on a dark outline.
func text(img *gocv.Mat, s string, p image.Point, c color.RGBA) {
	p.X = max(min(p.X, img.Cols()-8), 0)
	p.Y = max(min(p.Y, img.Rows()-2), 10)
	gocv.PutText(img, s, p, gocv.FontHersheySimplex, 0.4, colourPanel, 3)
	gocv.PutText(img, s, p, gocv.FontHersheySimplex, 0.4, c, 1)
}
