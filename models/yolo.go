package models

import (
	"fmt"
	"math"
	"slices"
)

// MaxCandidates bounds the boxes kept for non-maximum suppression, highest
// scores first: NMS is quadratic, and a frame never holds this many objects.
const MaxCandidates = 2000

// Detection is one object found in a frame.
type Detection struct {
	Class      string     // product label (see Manifest.Labels); empty straight out of a decoder
	ClassID    int        // index into Manifest.Classes
	Confidence float32    // score in [0, 1]
	Box        [4]float32 // x1, y1, x2, y2: frame pixels from Detect, model-input pixels from a decoder
	// StandIn marks a box of a class the model mistakes large road
	// vehicles for (Manifest.StandIns), under the label it stands in for:
	// for a tracker only, never to be reported or counted.
	StandIn bool
}

// DecodeYOLOX appends to dst the boxes of a raw YOLOX head output scoring at
// least threshold. out is [N, 5+classes] row-major with N the cells of the
// stride 8, 16 and 32 grids over an inW×inH input, in that order, each grid
// row by row. A row is x, y offsets in cells, log w, log h, objectness, then
// the class probabilities (sigmoids already applied). The score of a row is
// objectness × its best class probability. Boxes are in input pixels.
func DecodeYOLOX(dst []Detection, out []float32, inW, inH, classes int, threshold float32) ([]Detection, error) {
	width := 5 + classes
	n := gridCells(inW, inH)
	if classes <= 0 || len(out) != n*width {
		return dst, fmt.Errorf("decode yolox: output has %d values, want %d×%d for a %d×%d input with %d classes",
			len(out), n, width, inW, inH, classes)
	}
	row := 0
	for _, s := range gridStrides {
		gw, gh := inW/s, inH/s
		stride := float32(s)
		for gy := range gh {
			for gx := range gw {
				r := out[row*width : (row+1)*width]
				row++
				obj := r[4]
				if obj < threshold { // class probabilities are ≤ 1
					continue
				}
				best, cls := bestClass(r[5:], 1)
				score := obj * best
				if score < threshold {
					continue
				}
				cx := (r[0] + float32(gx)) * stride
				cy := (r[1] + float32(gy)) * stride
				w := float32(math.Exp(float64(r[2]))) * stride
				h := float32(math.Exp(float64(r[3]))) * stride
				dst = append(dst, Detection{ClassID: cls, Confidence: score, Box: centerBox(cx, cy, w, h)})
			}
		}
	}
	return dst, nil
}

// DecodeYOLOv8 appends to dst the boxes of a YOLOv8-layout output scoring at
// least threshold. out is [4+classes, n] row-major: rows cx, cy, w, h in
// input pixels, then one row of scores per class. Each box takes its best
// class.
func DecodeYOLOv8(dst []Detection, out []float32, n, classes int, threshold float32) ([]Detection, error) {
	if classes <= 0 || n <= 0 || len(out) != (4+classes)*n {
		return dst, fmt.Errorf("decode yolov8: output has %d values, want (4+%d)×%d", len(out), classes, n)
	}
	for i := range n {
		best, cls := bestClass(out[4*n+i:], n)
		if best < threshold {
			continue
		}
		dst = append(dst, Detection{ClassID: cls, Confidence: best,
			Box: centerBox(out[i], out[n+i], out[2*n+i], out[3*n+i])})
	}
	return dst, nil
}

// DecodeYOLOv5 appends to dst the boxes of a YOLOv5-layout output scoring at
// least threshold. out is [n, width] row-major with width ≥ 5+classes: cx,
// cy, w, h in input pixels, objectness, any extra columns (ignored, e.g.
// landmarks), and the class probabilities in the last classes columns. The
// score of a row is objectness × its best class probability.
func DecodeYOLOv5(dst []Detection, out []float32, n, width, classes int, threshold float32) ([]Detection, error) {
	if classes <= 0 || n <= 0 || width < 5+classes || len(out) != n*width {
		return dst, fmt.Errorf("decode yolov5: output has %d values, want %d rows of at least 5+%d (got width %d)",
			len(out), n, classes, width)
	}
	for i := range n {
		r := out[i*width : (i+1)*width]
		obj := r[4]
		if obj < threshold {
			continue
		}
		best, cls := bestClass(r[width-classes:], 1)
		score := obj * best
		if score < threshold {
			continue
		}
		dst = append(dst, Detection{ClassID: cls, Confidence: score, Box: centerBox(r[0], r[1], r[2], r[3])})
	}
	return dst, nil
}

// bestClass returns the highest of the class scores found every step values
// from scores[0], and its index. The number of classes is implied by the
// caller's slice: len(scores) for step 1, the rows remaining otherwise.
func bestClass(scores []float32, step int) (float32, int) {
	best, cls := float32(-1), 0
	for c, i := 0, 0; i < len(scores); c, i = c+1, i+step {
		if scores[i] > best {
			best, cls = scores[i], c
		}
	}
	return best, cls
}

func centerBox(cx, cy, w, h float32) [4]float32 {
	return [4]float32{cx - w/2, cy - h/2, cx + w/2, cy + h/2}
}

// IoU returns the intersection over union of two x1, y1, x2, y2 boxes; 0
// when either is empty.
func IoU(a, b [4]float32) float32 {
	iw := min(a[2], b[2]) - max(a[0], b[0])
	ih := min(a[3], b[3]) - max(a[1], b[1])
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	union := (a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// NMS performs class-aware greedy non-maximum suppression in place: sorted
// by confidence (highest first, at most MaxCandidates considered), a box is
// dropped when it overlaps a kept box of the same class by more than iou.
// It returns the kept prefix of dets, highest confidence first.
func NMS(dets []Detection, iou float32) []Detection {
	slices.SortStableFunc(dets, func(a, b Detection) int {
		switch {
		case a.Confidence > b.Confidence:
			return -1
		case a.Confidence < b.Confidence:
			return 1
		}
		return 0
	})
	if len(dets) > MaxCandidates {
		dets = dets[:MaxCandidates]
	}
	kept := 0
	for i := range dets {
		d := dets[i]
		suppressed := false
		for _, k := range dets[:kept] {
			if k.ClassID == d.ClassID && IoU(k.Box, d.Box) > iou {
				suppressed = true
				break
			}
		}
		if !suppressed {
			dets[kept] = d
			kept++
		}
	}
	return dets[:kept]
}
