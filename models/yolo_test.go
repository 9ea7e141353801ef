package models_test

import (
	"math"
	"slices"
	"testing"

	"github.com/matthan/matthan/models"
)

const eps = 1e-4

func boxNear(a, b [4]float32) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > eps {
			return false
		}
	}
	return true
}

func sameDetections(t *testing.T, got, want []models.Detection) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d detections %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ClassID != w.ClassID || math.Abs(float64(g.Confidence-w.Confidence)) > eps || !boxNear(g.Box, w.Box) || g.Class != w.Class {
			t.Errorf("detection %d = %+v, want %+v", i, g, w)
		}
	}
}

// yoloxOutput builds a raw YOLOX head output for a w×h input with the given
// number of classes, all rows zero except those set.
type yoloxRow struct {
	stride, gx, gy   int
	x, y, logW, logH float32
	obj              float32
	cls              []float32
}

func yoloxOutput(w, h, classes int, rows ...yoloxRow) []float32 {
	width := 5 + classes
	n := 0
	start := map[int]int{}
	for _, s := range []int{8, 16, 32} {
		start[s] = n
		n += (w / s) * (h / s)
	}
	out := make([]float32, n*width)
	for _, r := range rows {
		i := (start[r.stride] + r.gy*(w/r.stride) + r.gx) * width
		copy(out[i:], []float32{r.x, r.y, r.logW, r.logH, r.obj})
		copy(out[i+5:], r.cls)
	}
	return out
}

func TestDecodeYOLOX(t *testing.T) {
	ln := func(v float64) float32 { return float32(math.Log(v)) }
	tests := []struct {
		name string
		rows []yoloxRow
		want []models.Detection
	}{
		{
			name: "stride 8 cell (3,2): centre (28,20), 16×32, class 1 at 0.9×0.8",
			rows: []yoloxRow{{stride: 8, gx: 3, gy: 2, x: 0.5, y: 0.5, logW: ln(2), logH: ln(4), obj: 0.9, cls: []float32{0.2, 0.8}}},
			want: []models.Detection{{ClassID: 1, Confidence: 0.72, Box: [4]float32{20, 4, 36, 36}}},
		},
		{
			name: "stride 16 cell (1,3) and stride 32 cell (1,1), in grid order",
			rows: []yoloxRow{
				{stride: 32, gx: 1, gy: 1, x: 0.25, y: 0.75, logW: ln(0.5), logH: ln(1), obj: 0.6, cls: []float32{0.1, 0.99}},
				{stride: 16, gx: 1, gy: 3, obj: 0.5, cls: []float32{0.9, 0.1}},
			},
			want: []models.Detection{
				{ClassID: 0, Confidence: 0.45, Box: [4]float32{8, 40, 24, 56}},
				{ClassID: 1, Confidence: 0.594, Box: [4]float32{40 - 8, 56 - 16, 40 + 8, 56 + 16}},
			},
		},
		{
			name: "below threshold: low objectness, and high objectness × low class",
			rows: []yoloxRow{
				{stride: 8, gx: 0, gy: 0, obj: 0.29, cls: []float32{1, 1}},
				{stride: 32, gx: 0, gy: 1, obj: 0.9, cls: []float32{0.3, 0.33}},
			},
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := yoloxOutput(64, 64, 2, tt.rows...)
			got, err := models.DecodeYOLOX(nil, out, 64, 64, 2, 0.3)
			if err != nil {
				t.Fatal(err)
			}
			sameDetections(t, got, tt.want)
		})
	}
	t.Run("wrong length", func(t *testing.T) {
		if _, err := models.DecodeYOLOX(nil, make([]float32, 84*7-1), 64, 64, 2, 0.3); err == nil {
			t.Fatal("no error for a short output")
		}
		if _, err := models.DecodeYOLOX(nil, make([]float32, 84*7), 64, 64, 3, 0.3); err == nil {
			t.Fatal("no error for a class count that does not match")
		}
	})
	t.Run("appends to dst", func(t *testing.T) {
		dst := []models.Detection{{ClassID: 7}}
		out := yoloxOutput(64, 64, 2, yoloxRow{stride: 8, obj: 1, cls: []float32{0, 1}})
		got, _ := models.DecodeYOLOX(dst, out, 64, 64, 2, 0.3)
		if len(got) != 2 || got[0].ClassID != 7 {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestDecodeYOLOv8(t *testing.T) {
	// [4+2, 3]: one row per value, one column per box.
	out := []float32{
		10, 1, 100, // cx
		20, 1, 50, // cy
		4, 1, 20, // w
		8, 1, 10, // h
		0.1, 0.2, 0.95, // fire
		0.7, 0.25, 0.3, // smoke
	}
	tests := []struct {
		threshold float32
		want      []models.Detection
	}{
		{0.3, []models.Detection{
			{ClassID: 1, Confidence: 0.7, Box: [4]float32{8, 16, 12, 24}},
			{ClassID: 0, Confidence: 0.95, Box: [4]float32{90, 45, 110, 55}},
		}},
		{0.8, []models.Detection{{ClassID: 0, Confidence: 0.95, Box: [4]float32{90, 45, 110, 55}}}},
		{0.2, []models.Detection{
			{ClassID: 1, Confidence: 0.7, Box: [4]float32{8, 16, 12, 24}},
			{ClassID: 1, Confidence: 0.25, Box: [4]float32{0.5, 0.5, 1.5, 1.5}},
			{ClassID: 0, Confidence: 0.95, Box: [4]float32{90, 45, 110, 55}},
		}},
	}
	for _, tt := range tests {
		got, err := models.DecodeYOLOv8(nil, out, 3, 2, tt.threshold)
		if err != nil {
			t.Fatal(err)
		}
		sameDetections(t, got, tt.want)
	}
	if _, err := models.DecodeYOLOv8(nil, out, 4, 2, 0.3); err == nil {
		t.Fatal("no error for a shape that does not match")
	}
}

func TestDecodeYOLOv5(t *testing.T) {
	tests := []struct {
		name     string
		out      []float32
		n, width int
		want     []models.Detection
	}{
		{
			name: "5+C rows",
			out: []float32{
				50, 60, 10, 20, 0.8, 0.25, 0.75, // class 1 at 0.6
				5, 5, 2, 2, 0.9, 0.3, 0.2, // 0.27: below
				200, 100, 40, 40, 0.5, 0.9, 0.1, // class 0 at 0.45
			},
			n: 3, width: 7,
			want: []models.Detection{
				{ClassID: 1, Confidence: 0.6, Box: [4]float32{45, 50, 55, 70}},
				{ClassID: 0, Confidence: 0.45, Box: [4]float32{180, 80, 220, 120}},
			},
		},
		{
			name: "landmark columns between objectness and classes (HyperLPR3 layout)",
			out: []float32{
				50, 60, 10, 20, 0.8, 999, 999, 999, 999, 999, 999, 999, 999, 0.25, 0.75,
				5, 5, 2, 2, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
			},
			n: 2, width: 15,
			want: []models.Detection{{ClassID: 1, Confidence: 0.6, Box: [4]float32{45, 50, 55, 70}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := models.DecodeYOLOv5(nil, tt.out, tt.n, tt.width, 2, 0.3)
			if err != nil {
				t.Fatal(err)
			}
			sameDetections(t, got, tt.want)
		})
	}
	if _, err := models.DecodeYOLOv5(nil, make([]float32, 12), 2, 6, 2, 0.3); err == nil {
		t.Fatal("no error for rows narrower than 5+classes")
	}
}

func TestIoU(t *testing.T) {
	tests := []struct {
		a, b [4]float32
		want float32
	}{
		{[4]float32{0, 0, 10, 10}, [4]float32{0, 0, 10, 10}, 1},
		{[4]float32{0, 0, 10, 10}, [4]float32{5, 0, 15, 10}, 1.0 / 3},
		{[4]float32{0, 0, 10, 10}, [4]float32{10, 0, 20, 10}, 0},
		{[4]float32{0, 0, 10, 10}, [4]float32{2, 2, 4, 4}, 0.04},
		{[4]float32{0, 0, 0, 10}, [4]float32{0, 0, 0, 10}, 0},
	}
	for _, tt := range tests {
		if got := models.IoU(tt.a, tt.b); math.Abs(float64(got-tt.want)) > eps {
			t.Errorf("IoU(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNMS(t *testing.T) {
	box := func(x1, y1, x2, y2 float32) [4]float32 { return [4]float32{x1, y1, x2, y2} }
	tests := []struct {
		name string
		in   []models.Detection
		iou  float32
		want []float32 // confidences kept, in order
	}{
		{
			name: "same class overlapping: the weaker is suppressed",
			in: []models.Detection{
				{ClassID: 2, Confidence: 0.6, Box: box(1, 1, 11, 11)},
				{ClassID: 2, Confidence: 0.9, Box: box(0, 0, 10, 10)},
			},
			iou: 0.45, want: []float32{0.9},
		},
		{
			name: "different classes overlapping: both kept",
			in: []models.Detection{
				{ClassID: 2, Confidence: 0.9, Box: box(0, 0, 10, 10)},
				{ClassID: 7, Confidence: 0.6, Box: box(0, 0, 10, 10)},
			},
			iou: 0.45, want: []float32{0.9, 0.6},
		},
		{
			name: "same class, overlap below the limit: both kept",
			in: []models.Detection{
				{ClassID: 0, Confidence: 0.5, Box: box(5, 0, 15, 10)}, // IoU 1/3
				{ClassID: 0, Confidence: 0.8, Box: box(0, 0, 10, 10)},
			},
			iou: 0.45, want: []float32{0.8, 0.5},
		},
		{
			name: "same overlap above a stricter limit: suppressed",
			in: []models.Detection{
				{ClassID: 0, Confidence: 0.5, Box: box(5, 0, 15, 10)},
				{ClassID: 0, Confidence: 0.8, Box: box(0, 0, 10, 10)},
			},
			iou: 0.3, want: []float32{0.8},
		},
		{
			name: "a suppressed box does not suppress others",
			in: []models.Detection{
				{ClassID: 1, Confidence: 0.9, Box: box(0, 0, 10, 10)},
				{ClassID: 1, Confidence: 0.8, Box: box(4, 0, 14, 10)}, // IoU 0.43 with the first: suppressed at 0.4
				{ClassID: 1, Confidence: 0.7, Box: box(8, 0, 18, 10)}, // IoU 0.11 with the first: kept
			},
			iou: 0.4, want: []float32{0.9, 0.7},
		},
		{name: "empty", in: nil, iou: 0.5, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := models.NMS(slices.Clone(tt.in), tt.iou)
			var conf []float32
			for _, d := range got {
				conf = append(conf, d.Confidence)
			}
			if !slices.Equal(conf, tt.want) {
				t.Fatalf("kept %v, want %v", conf, tt.want)
			}
		})
	}
}

func TestInputFit(t *testing.T) {
	spec := func(w, h int, a models.Align) models.InputSpec {
		return models.InputSpec{Width: w, Height: h, Letterbox: models.LetterboxSpec{Align: a}}
	}
	tests := []struct {
		name           string
		spec           models.InputSpec
		frameW, frameH int
		want           models.Fit
	}{
		{"640×480 top-left", spec(416, 416, models.AlignTopLeft), 640, 480,
			models.Fit{Letterbox: models.Letterbox{Scale: 0.65}, Width: 416, Height: 312}},
		{"640×480 centred", spec(416, 416, models.AlignCenter), 640, 480,
			models.Fit{Letterbox: models.Letterbox{Scale: 0.65, PadY: 52}, Width: 416, Height: 312, Y: 52}},
		{"portrait 480×640 centred", spec(416, 416, models.AlignCenter), 480, 640,
			models.Fit{Letterbox: models.Letterbox{Scale: 0.65, PadX: 52}, Width: 312, Height: 416, X: 52}},
		{"odd padding goes below: 100×70 into 64×64 (45 rows, 9 above, 10 below)", spec(64, 64, models.AlignCenter), 100, 70,
			models.Fit{Letterbox: models.Letterbox{Scale: 0.64, PadY: 9}, Width: 64, Height: 45, Y: 9}},
		{"upscaled 208×208", spec(416, 416, models.AlignTopLeft), 208, 208,
			models.Fit{Letterbox: models.Letterbox{Scale: 2}, Width: 416, Height: 416}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.spec.Fit(tt.frameW, tt.frameH)
			if got.Width != tt.want.Width || got.Height != tt.want.Height || got.X != tt.want.X || got.Y != tt.want.Y ||
				math.Abs(float64(got.Scale-tt.want.Scale)) > eps || got.PadX != tt.want.PadX || got.PadY != tt.want.PadY {
				t.Fatalf("Fit(%d, %d) = %+v, want %+v", tt.frameW, tt.frameH, got, tt.want)
			}
		})
	}
}

func TestLetterboxFrameBox(t *testing.T) {
	lb := models.Letterbox{Scale: 0.5, PadX: 10, PadY: 20}
	tests := []struct {
		in, want [4]float32
	}{
		{[4]float32{10, 20, 60, 70}, [4]float32{0, 0, 100, 100}},
		{[4]float32{30, 40, 40, 50}, [4]float32{40, 40, 60, 60}},
		{[4]float32{0, 0, 500, 500}, [4]float32{0, 0, 640, 480}}, // clipped to the frame
	}
	for _, tt := range tests {
		if got := lb.FrameBox(tt.in, 640, 480); !boxNear(got, tt.want) {
			t.Errorf("FrameBox(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
