package analyzer

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// twoColourFrame is a w×h BGR24 frame whose left half is left and right half
// is right, with rows stride bytes apart (≥ 3w; the gap is filled with 255).
func twoColourFrame(w, h, stride int, left, right [3]byte) *decode.Frame {
	pix := make([]byte, stride*h)
	for i := range pix {
		pix[i] = 255
	}
	for y := range h {
		for x := range w {
			c := left
			if x >= w/2 {
				c = right
			}
			copy(pix[y*stride+3*x:], c[:])
		}
	}
	return &decode.Frame{Width: w, Height: h, Stride: stride, Pix: pix}
}

func testSpec(align models.Align, color models.ColorOrder) models.InputSpec {
	return models.InputSpec{
		Name: "images", Width: 32, Height: 32, Layout: models.LayoutNCHW, Color: color,
		Scale: 1.0 / 255, Mean: models.Channels{0.1, 0.2, 0.3}, Std: models.Channels{0.5, 0.25, 2},
		Letterbox: models.LetterboxSpec{Pad: 114, Align: align},
	}
}

// want is the tensor value of model channel c for a BGR pixel.
func want(spec models.InputSpec, bgr [3]byte, c int) float32 {
	src := c
	if spec.Color == models.RGB {
		src = 2 - c
	}
	return (float32(bgr[src])*spec.Scale - spec.Mean[c]) / spec.Std[c]
}

func TestPreprocessorLetterbox(t *testing.T) {
	left, right := [3]byte{10, 20, 30}, [3]byte{200, 100, 50} // B, G, R
	pad := [3]byte{114, 114, 114}
	tests := []struct {
		align models.Align
		color models.ColorOrder
		lb    models.Letterbox
		top   int // first image row in the input
	}{
		{models.AlignTopLeft, models.BGR, models.Letterbox{Scale: 0.5}, 0},
		{models.AlignTopLeft, models.RGB, models.Letterbox{Scale: 0.5}, 0},
		{models.AlignCenter, models.BGR, models.Letterbox{Scale: 0.5, PadY: 8}, 8},
		{models.AlignCenter, models.RGB, models.Letterbox{Scale: 0.5, PadY: 8}, 8},
	}
	for _, tt := range tests {
		t.Run(string(tt.align)+"/"+string(tt.color), func(t *testing.T) {
			spec := testSpec(tt.align, tt.color)
			p, err := NewPreprocessor(spec)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			// 64×32 frame into 32×32: scale 0.5, image 32×16, 16 rows of padding.
			tensor, lb, err := p.Tensor(twoColourFrame(64, 32, 3*64, left, right))
			if err != nil {
				t.Fatal(err)
			}
			if lb != tt.lb {
				t.Fatalf("letterbox %+v, want %+v", lb, tt.lb)
			}
			if len(tensor) != 3*32*32 {
				t.Fatalf("tensor has %d values", len(tensor))
			}
			probes := []struct {
				x, y int
				bgr  [3]byte
			}{
				{4, tt.top + 2, left},
				{27, tt.top + 2, right},
				{4, tt.top + 15, left},
				{27, tt.top + 13, right},
				{5, (tt.top + 16 + 32) / 2, pad}, // below the image
				{31, 31, pad},
			}
			if tt.top > 0 {
				probes = append(probes, struct {
					x, y int
					bgr  [3]byte
				}{20, tt.top - 1, pad}, struct {
					x, y int
					bgr  [3]byte
				}{0, 0, pad})
			}
			for _, pr := range probes {
				for c := range 3 {
					got := tensor[c*32*32+pr.y*32+pr.x]
					if w := want(spec, pr.bgr, c); math.Abs(float64(got-w)) > 1e-5 {
						t.Errorf("channel %d at (%d,%d) = %v, want %v (pixel %v)", c, pr.x, pr.y, got, w, pr.bgr)
					}
				}
			}
		})
	}
}

func TestPreprocessorStrideAndSizeChanges(t *testing.T) {
	spec := testSpec(models.AlignCenter, models.RGB)
	p, err := NewPreprocessor(spec)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	left, right := [3]byte{1, 2, 3}, [3]byte{250, 128, 7}

	packed, _, err := p.Tensor(twoColourFrame(64, 32, 3*64, left, right))
	if err != nil {
		t.Fatal(err)
	}
	packed = slices.Clone(packed)
	padded, _, err := p.Tensor(twoColourFrame(64, 32, 3*64+5, left, right))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(packed, padded) {
		t.Fatal("a frame with padded rows gives another tensor than the same frame packed")
	}

	// A portrait frame next: the rows that held the image must become padding.
	tall, lb, err := p.Tensor(twoColourFrame(16, 32, 3*16, left, left))
	if err != nil {
		t.Fatal(err)
	}
	if lb != (models.Letterbox{Scale: 1, PadX: 8}) {
		t.Fatalf("letterbox %+v, want scale 1, pad x 8", lb)
	}
	for c := range 3 {
		for _, pr := range []struct{ x, y int }{{4, 16}, {27, 16}} {
			if got, w := tall[c*1024+pr.y*32+pr.x], want(spec, [3]byte{114, 114, 114}, c); got != w {
				t.Errorf("channel %d at %v = %v, want padding %v", c, pr, got, w)
			}
		}
		if got, w := tall[c*1024+16*32+12], want(spec, left, c); math.Abs(float64(got-w)) > 1e-5 {
			t.Errorf("channel %d at (12,16) = %v, want %v", c, got, w)
		}
	}

	// The same size needs no resize: the tensor is the pixels, exactly.
	same := twoColourFrame(32, 32, 3*32, left, right)
	tensor, lb, err := p.Tensor(same)
	if err != nil {
		t.Fatal(err)
	}
	if lb != (models.Letterbox{Scale: 1}) {
		t.Fatalf("letterbox %+v, want identity", lb)
	}
	for c := range 3 {
		if got, w := tensor[c*1024+31*32+31], want(spec, right, c); got != w {
			t.Errorf("channel %d at (31,31) = %v, want %v", c, got, w)
		}
	}
}

func TestPreprocessorSteadyStateAllocs(t *testing.T) {
	p, err := NewPreprocessor(testSpec(models.AlignTopLeft, models.BGR))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Three buffers circulate, as in a pipeline.
	frames := []*decode.Frame{
		twoColourFrame(640, 480, 3*640, [3]byte{1, 2, 3}, [3]byte{4, 5, 6}),
		twoColourFrame(640, 480, 3*640, [3]byte{7, 8, 9}, [3]byte{4, 5, 6}),
		twoColourFrame(640, 480, 3*640, [3]byte{1, 2, 3}, [3]byte{9, 9, 9}),
	}
	i := 0
	allocs := testing.AllocsPerRun(30, func() {
		if _, _, err := p.Tensor(frames[i%3]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame in steady state, want 0", allocs)
	}
}

func TestPreprocessorRejects(t *testing.T) {
	if _, err := NewPreprocessor(models.InputSpec{Width: 32, Height: 32, Layout: "NHWC", Color: models.BGR, Scale: 1, Std: models.Channels{1, 1, 1}}); err == nil {
		t.Error("NHWC accepted")
	}
	if _, err := NewPreprocessor(models.InputSpec{Width: 32, Height: 32, Layout: models.LayoutNCHW, Color: models.BGR, Scale: 1}); err == nil || !strings.Contains(err.Error(), "std[0]") {
		t.Errorf("zero std: %v", err)
	}
	p, err := NewPreprocessor(testSpec(models.AlignTopLeft, models.BGR))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tests := []struct {
		name string
		f    *decode.Frame
	}{
		{"nil", nil},
		{"empty", &decode.Frame{}},
		{"stride below 3×width", &decode.Frame{Width: 10, Height: 2, Stride: 20, Pix: make([]byte, 60)}},
		{"short pixels", &decode.Frame{Width: 10, Height: 2, Stride: 30, Pix: make([]byte, 59)}},
	}
	for _, tt := range tests {
		if _, _, err := p.Tensor(tt.f); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// BenchmarkPreprocessor reports the cost of letterboxing a 640×480 frame
// into a 416×416 tensor.
func BenchmarkPreprocessor(b *testing.B) {
	spec := testSpec(models.AlignTopLeft, models.BGR)
	spec.Width, spec.Height = 416, 416
	p, err := NewPreprocessor(spec)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	f := twoColourFrame(640, 480, 3*640, [3]byte{1, 2, 3}, [3]byte{200, 100, 50})
	for b.Loop() {
		if _, _, err := p.Tensor(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}

// TestPreprocessorFoldedFocus checks the tensor written for an input whose
// Focus is folded against the plain tensor folded by hand, as YOLOX's
// Focus does it (plane 3i+c at (x/2, y/2) holds channel c of the pixels at
// models.FocusOffsets[i]): random pixels, both colour orders, letterboxes
// at even and odd offsets and of odd sizes, and frames already at the
// letterboxed size (no resize).
func TestPreprocessorFoldedFocus(t *testing.T) {
	tests := []struct {
		w, h  int
		align models.Align
		color models.ColorOrder
	}{
		{64, 48, models.AlignTopLeft, models.BGR},   // 32×24 at (0, 0)
		{64, 48, models.AlignCenter, models.RGB},    // 32×24 at (0, 4)
		{32, 22, models.AlignCenter, models.BGR},    // 32×22 at (0, 5): odd offset
		{22, 32, models.AlignCenter, models.RGB},    // 22×32 at (5, 0): odd offset
		{31, 17, models.AlignTopLeft, models.BGR},   // 32×18 resized from an odd size
		{45, 32, models.AlignCenter, models.BGR},    // 32×23 at (0, 4): odd height
		{23, 32, models.AlignCenter, models.RGB},    // 23×32 at (4, 0): odd width
		{640, 480, models.AlignTopLeft, models.RGB}, // resized
		{480, 640, models.AlignCenter, models.BGR},  // resized, 24×32 at (4, 0)
	}
	for _, tt := range tests {
		spec := testSpec(tt.align, tt.color)
		plainPre, err := NewPreprocessor(spec)
		if err != nil {
			t.Fatal(err)
		}
		spec.Focus = models.FocusFold
		foldPre, err := NewPreprocessor(spec)
		if err != nil {
			t.Fatal(err)
		}
		f := &decode.Frame{Width: tt.w, Height: tt.h, Stride: 3*tt.w + 5}
		f.Pix = make([]byte, f.Stride*f.Height)
		for i := range f.Pix {
			f.Pix[i] = byte(i*7919 + i/3*31)
		}
		plain, lbPlain, err := plainPre.Tensor(f)
		if err != nil {
			t.Fatal(err)
		}
		folded, lbFolded, err := foldPre.Tensor(f)
		if err != nil {
			t.Fatal(err)
		}
		if lbPlain != lbFolded {
			t.Errorf("%dx%d: letterbox %+v plain, %+v folded", tt.w, tt.h, lbPlain, lbFolded)
		}
		W, H := spec.Width, spec.Height
		bad := 0
		for i, off := range models.FocusOffsets {
			for c := range 3 {
				for y := range H / 2 {
					for x := range W / 2 {
						want := plain[c*W*H+(2*y+off[0])*W+2*x+off[1]]
						if got := folded[((3*i+c)*H/2+y)*W/2+x]; got != want {
							if bad == 0 {
								t.Errorf("%dx%d %s %s: plane %d at (%d, %d) is %g, the plain tensor's value there is %g",
									tt.w, tt.h, tt.align, tt.color, 3*i+c, x, y, got, want)
							}
							bad++
						}
					}
				}
			}
		}
		if bad > 0 {
			t.Errorf("%dx%d: %d values misplaced", tt.w, tt.h, bad)
		}
		plainPre.Close()
		foldPre.Close()
	}
}

// BenchmarkPreprocessorModelSize reports the cost of filling the tensor
// from a frame already at the letterboxed size (416×312), as
// the pipelines do, in both layouts.
func BenchmarkPreprocessorModelSize(b *testing.B) {
	for _, focus := range []string{"", models.FocusFold} {
		b.Run("focus="+focus, func(b *testing.B) {
			spec := testSpec(models.AlignTopLeft, models.BGR)
			spec.Width, spec.Height, spec.Focus = 416, 416, focus
			p, err := NewPreprocessor(spec)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			f := twoColourFrame(416, 312, 3*416, [3]byte{1, 2, 3}, [3]byte{200, 100, 50})
			for b.Loop() {
				if _, _, err := p.Tensor(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
