package analyzer_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// A frame the decoder converted straight to the model's size (swscale,
// area averaging) gives the detector nearly the tensor the GoCV resize of
// the full-size frame gives, and the detections come back in the source
// picture's pixels: essentially the same boxes. The bounds are what was
// measured on these clips with some room: a mean difference of 0.2 to 1.5
// grey levels, 96–100 % of the boxes matched.
func TestModelSizeFrameMatchesResize(t *testing.T) {
	det := newDetector(t, 0)
	spec := det.Manifest().Input
	for _, tc := range []struct {
		clip     string
		w, h     int
		maxMean  float64 // mean |difference| over the image area, grey levels
		minMatch float64 // share of the boxes matched, both ways
	}{
		{"traffic_intersection_signals_cctv_day.mp4", 640, 480, 2, 0.9},
		{"traffic_road_overhead_both_directions_dusk.mp4", 640, 360, 2, 0.9},
		{"pedestrians_plaza_elevated_day.mp4", 960, 540, 2, 0.9},
		{"fire_smoke_model_house_garden_day.mp4", 426, 240, 2, 0.9}, // nearly the model's size
		{"wildfire_smoke_hillside_dusk.h264.mp4", 400, 240, 2, 0.9}, // scaled up
	} {
		t.Run(tc.clip, func(t *testing.T) {
			gocvPre, err := analyzer.NewPreprocessor(spec)
			if err != nil {
				t.Fatal(err)
			}
			defer gocvPre.Close()
			direct, err := analyzer.NewPreprocessor(spec)
			if err != nil {
				t.Fatal(err)
			}
			defer direct.Close()
			v, err := decode.OpenVideo(testenv.Clip(t, tc.clip))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			var small decode.Frame
			defer small.Close()
			fit := spec.Fit(tc.w, tc.h)

			var sum, n float64
			var boxes, matched, beyond int
			for i := 0; i < 300; i++ {
				if err := v.Decode(); err != nil {
					t.Fatal(err)
				}
				if i%15 != 0 {
					continue
				}
				if err := v.ConvertKeep(&small, fit.Width, fit.Height); err != nil {
					t.Fatal(err)
				}
				full, err := small.Full()
				if err != nil {
					t.Fatal(err)
				}
				want, wantLB, err := gocvPre.Tensor(full)
				if err != nil {
					t.Fatal(err)
				}
				got, gotLB, err := direct.Tensor(&small)
				if err != nil {
					t.Fatal(err)
				}
				if gotLB != wantLB {
					t.Fatalf("letterbox %+v, want %+v", gotLB, wantLB)
				}
				for k := range want {
					x, y := tensorPixel(spec, k)
					if x >= fit.Width || y >= fit.Height {
						if got[k] != want[k] {
							t.Fatalf("padding at %d,%d is %g, want %g", x, y, got[k], want[k])
						}
						continue
					}
					sum += math.Abs(float64(got[k] - want[k]))
					n++
				}

				wantDets, err := det.Detect(want, wantLB, tc.w, tc.h)
				if err != nil {
					t.Fatal(err)
				}
				wantDets = slices.Clone(wantDets)
				w, h := small.SourceSize()
				gotDets, err := det.Detect(got, gotLB, w, h)
				if err != nil {
					t.Fatal(err)
				}
				boxes += len(wantDets) + len(gotDets)
				matched += 2 * matches(wantDets, gotDets)
				for _, d := range gotDets {
					if d.Box[2] > float32(fit.Width)+1 || d.Box[3] > float32(fit.Height)+1 {
						beyond++
					}
					if d.Box[0] < 0 || d.Box[1] < 0 || d.Box[2] > float32(tc.w) || d.Box[3] > float32(tc.h) {
						t.Fatalf("box %v outside the %dx%d picture", d.Box, tc.w, tc.h)
					}
				}
			}
			mean := sum / n
			share := 1.0 // no box on either side agrees
			if boxes > 0 {
				share = float64(matched) / float64(boxes)
			}
			t.Logf("mean |difference| %.2f grey levels; %d of %d boxes matched (%.3f)", mean, matched, boxes, share)
			if mean > tc.maxMean {
				t.Errorf("tensors differ by %.2f grey levels on average, want ≤ %g", mean, tc.maxMean)
			}
			if share < tc.minMatch {
				t.Errorf("%.3f of the boxes matched, want ≥ %g", share, tc.minMatch)
			}
			if 2*tc.w >= 3*fit.Width && beyond == 0 {
				t.Error("no box reaches past the model-size frame: boxes are not in source pixels")
			}
		})
	}
}

// matches counts the boxes of a matched one to one with a box of b of the
// same class at IoU ≥ 0.5.
func matches(a, b []models.Detection) int {
	used := make([]bool, len(b))
	n := 0
	for _, x := range a {
		for j, y := range b {
			if !used[j] && x.Class == y.Class && models.IoU(x.Box, y.Box) >= 0.5 {
				used[j] = true
				n++
				break
			}
		}
	}
	return n
}

// TestConvertSize: pictures the letterbox at least halves are converted
// straight to the model's size, smaller ones at their own.
func TestConvertSize(t *testing.T) {
	spec := newDetector(t, 0).Manifest().Input // 416×416
	for _, tc := range []struct{ w, h, wantW, wantH int }{
		{640, 480, 640, 480},
		{640, 360, 640, 360},
		{400, 240, 400, 240},
		{832, 468, 416, 234}, // exactly halved
		{960, 540, 416, 234},
		{1920, 1080, 416, 234},
		{1080, 1920, 234, 416},
	} {
		if w, h := analyzer.ConvertSize(spec, tc.w, tc.h); w != tc.wantW || h != tc.wantH {
			t.Errorf("%dx%d: %dx%d, want %dx%d", tc.w, tc.h, w, h, tc.wantW, tc.wantH)
		}
	}
}

// TestOfflineScalesLargePicture runs the offline path on the 960×540 plaza
// clip: the frames are converted straight to the model's size, their full
// picture is at hand, and the people found are in the picture's pixels.
func TestOfflineScalesLargePicture(t *testing.T) {
	det := newDetector(t, 0.3)
	a, err := analyzer.NewAnalyst(analyzer.AnalystConfig{CameraID: "plaza", Detector: det, FPS: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	enough := errors.New("enough frames")
	frames, beyond := 0, 0
	o := &analyzer.Offline{Path: testenv.Clip(t, "pedestrians_plaza_elevated_day.mp4"), Analyst: a,
		OnFrame: func(f *decode.Frame, res *analyzer.Analysis) error {
			full, err := f.Full()
			if err != nil {
				return err
			}
			if sw, sh := f.SourceSize(); f.Width != 416 || f.Height != 234 || sw != 960 || sh != 540 || full.Width != 960 || full.Height != 540 {
				t.Fatalf("frame %dx%d of a %dx%d picture, full %dx%d; want 416x234 of 960x540", f.Width, f.Height, sw, sh, full.Width, full.Height)
			}
			for _, d := range res.Detections {
				if d.Box[0] < 0 || d.Box[1] < 0 || d.Box[2] > 960 || d.Box[3] > 540 {
					t.Errorf("box %v outside the 960x540 picture", d.Box)
				}
				if d.Box[2] > 420 {
					beyond++
				}
			}
			if frames++; frames == 6 {
				return enough
			}
			return nil
		}}
	if err := o.Run(context.Background()); !errors.Is(err, enough) {
		t.Fatalf("run: %v", err)
	}
	if beyond == 0 {
		t.Error("no detection right of x 420: boxes are not in the picture's pixels")
	}
}

// tensorPixel returns the input pixel whose value lies at index k of a
// tensor written for spec, in either layout (models.FocusFold).
func tensorPixel(spec models.InputSpec, k int) (x, y int) {
	if spec.Focus != models.FocusFold {
		plane := spec.Width * spec.Height
		return k % spec.Width, k % plane / spec.Width
	}
	half := spec.Width / 2
	plane := half * (spec.Height / 2)
	off := models.FocusOffsets[k/plane/3]
	return 2*(k%plane%half) + off[1], 2*(k%plane/half) + off[0]
}
