package firesmoke_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/firesmoke"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

func TestTiles(t *testing.T) {
	s, err := firesmoke.NewStills(nil, firesmoke.StillConfig{InputSize: 640})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		w, h, n int
	}{
		{1280, 720, 0},  // at most 2× the input: whole only
		{1920, 1080, 2}, // 2 × 1 tiles of 1280
		{3840, 2160, 8}, // 4 × 2
	}
	for _, tt := range tests {
		tiles := s.Tiles(tt.w, tt.h)
		if len(tiles) != tt.n {
			t.Errorf("%d×%d: %d tiles %v, want %d", tt.w, tt.h, len(tiles), tiles, tt.n)
			continue
		}
		for i, tl := range tiles {
			if tl[0] < 0 || tl[1] < 0 || tl[2] > tt.w || tl[3] > tt.h || tl[2]-tl[0] > 1280 || tl[3]-tl[1] > 1280 {
				t.Errorf("%d×%d: tile %d %v outside the frame or too big", tt.w, tt.h, i, tl)
			}
			if i > 0 && tiles[i-1][1] == tl[1] && tiles[i-1][2]-tl[0] < 256 {
				t.Errorf("%d×%d: tiles %d and %d overlap by %d px, want ≥ 256", tt.w, tt.h, i-1, i, tiles[i-1][2]-tl[0])
			}
		}
	}
	if !s.Due(t0) {
		t.Error("first still not due")
	}
}

// A distant plume in a large forest frame: the wildfire clip's frame
// (400×240) pasted at its native size into a 2560×1440 dark frame, as a
// 4-megapixel camera would see a far hillside. Whole, the model sees it
// shrunk 4×; the tiles shrink it 2×.
func TestStillsFindSmallPlume(t *testing.T) {
	d := detector(t, "firesmoke_640", 0.1)
	fd := newFrameDetector(t, d)
	var src decode.Frame
	playClip(t, "wildfire_smoke_hillside_dusk.mp4", time.Hour, func(_ time.Time, f *decode.Frame) {
		src = *f
		src.Pix = append([]byte(nil), f.Pix...)
	})
	const W, H, X, Y = 2560, 1440, 1500, 700
	big := decode.Frame{Width: W, Height: H, Stride: 3 * W, Pix: make([]byte, 3*W*H)}
	for i := range big.Pix {
		big.Pix[i] = 40
	}
	for y := range src.Height {
		copy(big.Pix[(Y+y)*big.Stride+3*X:], src.Pix[y*src.Stride:y*src.Stride+3*src.Width])
	}
	plume := [4]float32{X + 0.2*400, Y + 0.1*240, X + 0.65*400, Y + 0.6*240} // where TestClips' smoke region lies

	best := func(dets []models.Detection) float32 {
		var b float32
		for _, d := range dets {
			if d.Class == "smoke" && models.IoU(d.Box, plume) > 0.2 {
				b = max(b, d.Confidence)
			}
		}
		return b
	}
	whole, err := fd.Detect(&big)
	if err != nil {
		t.Fatal(err)
	}
	s, err := firesmoke.NewStills(fd, firesmoke.StillConfig{InputSize: 640})
	if err != nil {
		t.Fatal(err)
	}
	tiled, ran, err := s.Observe(t0, &big)
	if err != nil || !ran {
		t.Fatalf("still not run: %v", err)
	}
	if _, ran, _ := s.Observe(t0.Add(5*time.Second), &big); ran {
		t.Error("a second still 5 s after the first, want none before 10 s")
	}
	t.Logf("%d tiles; best smoke score on the plume: whole frame %.2f, tiled %.2f (%d detections)",
		len(s.Tiles(W, H)), best(whole), best(tiled), len(tiled))
	if best(tiled) < 0.4 {
		t.Errorf("tiled still: best smoke score on the plume %.2f, want ≥ 0.4 (the model's threshold)", best(tiled))
	}
	for _, d := range tiled {
		if d.Box[0] < 0 || d.Box[1] < 0 || d.Box[2] > W || d.Box[3] > H || d.Box[2] <= d.Box[0] {
			t.Errorf("detection %+v outside the frame", d)
		}
	}
}

// datasetDir is the labelled fire/smoke image set: $MATTHAN_FIRESMOKE_DATA,
// else the validation split "make deps" copies from the team's mirror into
// .deps/datasets/firesmoke.
func datasetDir(t *testing.T) string {
	return testenv.Path(t, "MATTHAN_FIRESMOKE_DATA", filepath.Join("datasets", "firesmoke"))
}

// TestEvaluateStills measures the still-image path on the dataset's
// validation split. The model's MANIFEST gives box AP50 0.773 for smoke and
// 0.538 for fire on this split: at the operating threshold 0.4 an
// image-level smoke recall above 0.5 and fire recall above 0.3 follow from
// those APs with room for the different matching; below them the path is
// broken (colour order, letterbox, box mapping), not the model weak.
func TestEvaluateStills(t *testing.T) {
	if testing.Short() {
		t.Skip("608 images")
	}
	dir := datasetDir(t)
	for _, name := range []string{"firesmoke_416", "firesmoke_640"} {
		t.Run(name, func(t *testing.T) {
			if name == "firesmoke_640" && os.Getenv("FIRESMOKE_EVAL_640") == "" {
				t.Skip("set FIRESMOKE_EVAL_640=1 to measure the 640 export too (50 s more)")
			}
			d := detector(t, name, 0.05)
			s, err := firesmoke.NewStills(newFrameDetector(t, d), firesmoke.StillConfig{InputSize: d.Input().Width})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := firesmoke.EvaluateStills(s, dir, "val", 0.4)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				s    firesmoke.ClassScore
			}{{"fire", rep.Fire}, {"smoke", rep.Smoke}} {
				t.Logf("%s %s: %d images, %d show it; at %.2f: TP %d FP %d FN %d precision %.3f recall %.3f; image AP %.3f; box AP50 %.3f",
					name, c.name, c.s.Images, c.s.Positives, rep.Threshold, c.s.TP, c.s.FP, c.s.FN, c.s.Precision, c.s.Recall, c.s.ImageAP, c.s.AP50)
			}
			if rep.Images != 608 {
				t.Errorf("%d validation images, want 608", rep.Images)
			}
			if rep.Smoke.Recall <= 0.5 || rep.Fire.Recall <= 0.3 {
				t.Errorf("recall smoke %.3f fire %.3f, want > 0.5 and > 0.3", rep.Smoke.Recall, rep.Fire.Recall)
			}
			// The 416 export is the one the MANIFEST's APs were measured
			// with, by the same 101-point AP at IoU 0.5 after NMS 0.5: the
			// still path must reproduce them (the 640 export, run on
			// images of at most 384 px, is only logged).
			if name == "firesmoke_416" && (abs(rep.Fire.AP50-0.538) > 0.05 || abs(rep.Smoke.AP50-0.773) > 0.05) {
				t.Errorf("box AP50 fire %.3f smoke %.3f, want within 0.05 of the MANIFEST's 0.538 and 0.773", rep.Fire.AP50, rep.Smoke.AP50)
			}
		})
	}
}

func abs(v float64) float64 { return math.Abs(v) }
