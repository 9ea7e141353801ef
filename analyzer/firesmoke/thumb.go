package firesmoke

import (
	"fmt"

	"github.com/matthan/matthan/ingest/decode"
)

// thumbSide is the longest side of the luma thumbnail the region dynamics
// are measured on. Averaging blocks of pixels takes out most of the
// compression noise, and 320 px keeps a 10-pixel flame of a 1080p frame
// about two thumbnail pixels wide.
const thumbSide = 320

// spreadLevel is the luma change (grey levels) above which a thumbnail
// pixel counts as changed: well above the noise of an averaged block of a
// compressed still scene (below 1).
const spreadLevel = 3

// thumb is a frame's luma reduced by averaging factor × factor blocks.
type thumb struct {
	w, h   int
	factor int // frame pixels per thumbnail pixel, per axis
	frameW int
	frameH int
	y      []float32
	acc    []uint32 // one row of block sums, reused
}

// checkFrame reports a frame whose geometry does not fit its pixels.
func checkFrame(f *decode.Frame) error {
	switch {
	case f == nil:
		return fmt.Errorf("%w: nil frame", ErrBadFrame)
	case f.Width <= 0 || f.Height <= 0 || f.Stride < 3*f.Width:
		return fmt.Errorf("%w: %d×%d with stride %d", ErrBadFrame, f.Width, f.Height, f.Stride)
	case len(f.Pix) < (f.Height-1)*f.Stride+3*f.Width:
		return fmt.Errorf("%w: %d bytes of pixels for %d×%d with stride %d", ErrBadFrame, len(f.Pix), f.Width, f.Height, f.Stride)
	}
	return nil
}

// build fills t from the BGR24 frame f, reusing t's buffer.
func (t *thumb) build(f *decode.Frame) {
	k := (max(f.Width, f.Height) + thumbSide - 1) / thumbSide
	k = max(k, 1)
	t.factor, t.frameW, t.frameH = k, f.Width, f.Height
	t.w, t.h = f.Width/k, f.Height/k
	t.w, t.h = max(t.w, 1), max(t.h, 1)
	n := t.w * t.h
	if cap(t.y) < n {
		t.y = make([]float32, n)
	}
	t.y = t.y[:n]
	clear(t.y)
	if cap(t.acc) < t.w {
		t.acc = make([]uint32, t.w)
	}
	rowAcc := t.acc[:t.w]
	for ty := range t.h {
		clear(rowAcc)
		for dy := range k {
			y := ty*k + dy
			if y >= f.Height {
				break
			}
			row := f.Pix[y*f.Stride:]
			for tx := range t.w {
				var s uint32
				for dx := range k {
					x := tx*k + dx
					if x >= f.Width {
						break
					}
					p := row[3*x:]
					// BT.601 luma in 8.8 fixed point: 29 B + 150 G + 77 R.
					s += 29*uint32(p[0]) + 150*uint32(p[1]) + 77*uint32(p[2])
				}
				rowAcc[tx] += s
			}
		}
		out := t.y[ty*t.w:]
		for tx := range t.w {
			out[tx] = float32(rowAcc[tx]) / float32(256*k*k)
		}
	}
}

// sameGeometry reports whether t and u were built from frames of one size.
func (t *thumb) sameGeometry(u *thumb) bool {
	return t.frameW == u.frameW && t.frameH == u.frameH && t.w == u.w && t.h == u.h && len(t.y) > 0 && len(u.y) > 0
}

// rect maps a box in frame pixels to a thumbnail rectangle [x0, x1) × [y0,
// y1), at least one pixel.
func (t *thumb) rect(b [4]float32) (x0, y0, x1, y1 int) {
	k := float32(t.factor)
	x0 = clampInt(int(b[0]/k), 0, t.w-1)
	y0 = clampInt(int(b[1]/k), 0, t.h-1)
	x1 = clampInt(int(b[2]/k+0.999), x0+1, t.w)
	y1 = clampInt(int(b[3]/k+0.999), y0+1, t.h)
	return
}

// diff returns the mean absolute luma difference between t and prev inside
// the box b (frame pixels), less offset (the whole picture's, see
// baseline) — 0 for a still region, grey levels otherwise — the fraction
// of the box's thumbnail pixels that changed by more than spreadLevel, and
// the mean change of those pixels (0 when none).
func (t *thumb) diff(prev *thumb, b [4]float32, offset float32) (mean, spread, strength float64) {
	x0, y0, x1, y1 := t.rect(b)
	var s, sc float64
	n := 0
	for y := y0; y < y1; y++ {
		a, p := t.y[y*t.w:], prev.y[y*t.w:]
		for x := x0; x < x1; x++ {
			d := abs32(a[x] - p[x] - offset)
			if d > spreadLevel {
				n++
				sc += float64(d)
			}
			s += float64(d)
		}
	}
	area := float64((x1 - x0) * (y1 - y0))
	if n > 0 {
		strength = sc / float64(n)
	}
	return s / area, float64(n) / area, strength
}

// baselineBins is the resolution of baseline's histograms: 1/16 of a grey
// level over ±64 levels, beyond which a change counts as 64 (no scene has
// half its picture change that much and stay a scene).
const baselineBins = 2 * 64 * 16

// baseline measures how the picture as a whole changed from prev to t: the
// median luma difference (offset: exposure or light changing everywhere),
// and, that offset taken out, the median absolute difference left (floor:
// noise and slow change of the still scene, which grow with the time
// between the samples). A region is active by what it changes beyond them.
func (t *thumb) baseline(prev *thumb, hist *[baselineBins + 1]int) (offset, floor float32) {
	median := func(d func(i int) float32) float32 {
		clear(hist[:])
		for i := range t.y {
			hist[clampInt(int(d(i)*16)+baselineBins/2, 0, baselineBins)]++
		}
		half := (len(t.y) + 1) / 2
		for b, n := range hist {
			if half -= n; half <= 0 {
				return (float32(b-baselineBins/2) + 0.5) / 16
			}
		}
		return 64
	}
	offset = median(func(i int) float32 { return t.y[i] - prev.y[i] })
	floor = median(func(i int) float32 { return abs32(t.y[i] - prev.y[i] - offset) })
	return offset, floor
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// shiftedDiff returns the mean absolute luma difference, less offset,
// between the content of box b in t and the content of box pb in prev,
// sampled on b's grid mapped onto pb: small when a rigid object moved from
// pb to b.
func (t *thumb) shiftedDiff(prev *thumb, b, pb [4]float32, offset float32) float64 {
	x0, y0, x1, y1 := t.rect(b)
	px0, py0, px1, py1 := prev.rect(pb)
	w, h := x1-x0, y1-y0
	pw, ph := px1-px0, py1-py0
	var s float64
	for y := range h {
		py := py0 + y*ph/h
		a, p := t.y[(y0+y)*t.w:], prev.y[py*prev.w:]
		for x := range w {
			s += float64(abs32(a[x0+x] - p[px0+x*pw/w] - offset))
		}
	}
	return s / float64(w*h)
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }
