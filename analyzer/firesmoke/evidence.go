package firesmoke

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"time"

	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/sink"
)

// severityWords are the Detail of severities 1, 2 and 3.
var severityWords = [...]string{"", "minor", "major", "severe"}

// Colours the region is drawn in on the snapshot.
var (
	fireColour  = color.RGBA{R: 255, G: 40, B: 40, A: 255}
	smokeColour = color.RGBA{R: 40, G: 220, B: 255, A: 255}
)

// alert builds the event and the snapshot for a qualifying candidate.
func (r *Rule) alert(ts time.Time, f *decode.Frame, c Candidate, rg *region) (Alert, error) {
	typ, col := sink.TypeAlertSmoke, smokeColour
	if c.Class == r.cfg.FireClass {
		typ, col = sink.TypeAlertFire, fireColour
	}
	// The region's box, and its latest detection when it has one now.
	boxes := [][4]float32{rg.box}
	if n := len(rg.samples); n > 0 && rg.samples[n-1].hit {
		boxes = append(boxes, rg.samples[n-1].box)
	}
	jpg, err := snapshot(f, boxes, col, r.cfg.SnapshotQuality)
	if err != nil {
		return Alert{}, err
	}
	sum := sha256.Sum256(jpg)

	ev := sink.NewEvent(typ, r.camera, ts)
	ev.Zone = c.Zone
	ev.Object = &sink.Object{TrackID: c.ID, Class: c.Class, Confidence: c.Score, Box: c.Box}
	ev.Measures = map[string]float64{
		"score":         round(float64(c.Score), 3),
		"peak_score":    round(float64(c.Peak), 3),
		"area":          round(c.Area, 5),
		"growth":        round(c.Growth, 3),
		"flicker":       round(c.Change, 2),
		"drift":         round(c.Drift, 3),
		"rise":          round(c.Rise, 3),
		"votes":         round(c.Votes, 3),
		"persistence_s": round(c.Persistence.Seconds(), 1),
		"severity":      float64(c.Severity),
	}
	ev.Detail = severityWords[c.Severity]
	ev.Evidence = &sink.Evidence{
		SnapshotSHA256: hex.EncodeToString(sum[:]),
		ClipFrom:       rg.first.Add(-r.cfg.ClipBefore).UTC(),
		ClipTo:         ts.Add(r.cfg.ClipAfter).UTC(),
	}
	return Alert{Event: ev, Snapshot: jpg}, nil
}

// round rounds v to the given decimals; NaN becomes 0 so the event stays
// valid JSON (a measure that could not be taken).
func round(v float64, decimals int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// snapshot encodes the BGR24 frame as a JPEG with the boxes (frame pixels)
// outlined in col.
func snapshot(f *decode.Frame, boxes [][4]float32, col color.RGBA, quality int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for y := range f.Height {
		src := f.Pix[y*f.Stride : y*f.Stride+3*f.Width]
		dst := img.Pix[y*img.Stride : y*img.Stride+4*f.Width]
		for x := range f.Width {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = src[3*x+2], src[3*x+1], src[3*x], 255
		}
	}
	// A line 1/200 of the frame's larger side thick, at least 2 pixels.
	t := max(2, max(f.Width, f.Height)/200)
	for _, b := range boxes {
		x0, y0 := int(b[0]), int(b[1])
		x1, y1 := int(math.Ceil(float64(b[2])))-1, int(math.Ceil(float64(b[3])))-1
		fill(img, x0-t, y0-t, x1+t, y0-1, col)
		fill(img, x0-t, y1+1, x1+t, y1+t, col)
		fill(img, x0-t, y0, x0-1, y1, col)
		fill(img, x1+1, y0, x1+t, y1, col)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("evidence snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// fill paints the rectangle [x0, x1] × [y0, y1], clipped to the image.
func fill(img *image.RGBA, x0, y0, x1, y1 int, col color.RGBA) {
	b := img.Bounds()
	x0, y0 = max(x0, b.Min.X), max(y0, b.Min.Y)
	x1, y1 = min(x1, b.Max.X-1), min(y1, b.Max.Y-1)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			img.SetRGBA(x, y, col)
		}
	}
}
