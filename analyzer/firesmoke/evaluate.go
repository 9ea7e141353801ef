package firesmoke

import (
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // the dataset's formats
	_ "image/png"
	"os"
	"path/filepath"
	"slices"

	_ "golang.org/x/image/webp"

	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// labelledImage is one entry of the dataset's labels.json.
type labelledImage struct {
	File  string      `json:"file"`
	Split string      `json:"split"`
	Boxes [][]float64 `json:"boxes"` // class, cx, cy, w, h normalised
	// SmokeLabeled is false for the fire-only sources, whose visible smoke
	// was never labelled: they do not count for smoke.
	SmokeLabeled bool `json:"smoke_labeled"`
}

// ClassScore is the still-image accuracy for one class.
type ClassScore struct {
	// Images is how many images count for the class; Positives how many of
	// them show it (have a box of it).
	Images    int `json:"images"`
	Positives int `json:"positives"`
	// TP, FP and FN count images: the class detected at or above the
	// threshold on an image that shows it, on one that does not, and not
	// detected on one that shows it.
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	// Precision and Recall are image-level at the threshold.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// ImageAP is the average precision of ranking the images by their best
	// score of the class (101-point interpolation).
	ImageAP float64 `json:"image_ap"`
	// AP50 is the box average precision at IoU 0.5 over all detections
	// (101-point interpolation, as the model's training recipe reports it).
	AP50 float64 `json:"ap50"`
}

// StillsReport is what EvaluateStills measured.
type StillsReport struct {
	// Split is the split evaluated and Images how many images it has.
	Split  string `json:"split"`
	Images int    `json:"images"`
	// Threshold is the score at or above which an image counts as showing
	// the class.
	Threshold float32 `json:"threshold"`
	// Fire and Smoke are the per-class scores.
	Fire  ClassScore `json:"fire"`
	Smoke ClassScore `json:"smoke"`
}

// EvaluateStills runs the still-image path once on every image of split in
// the labelled fire/smoke image set at dir (labels.json and img/, see its
// MANIFEST) and measures image-level precision and recall of "the image
// shows fire" / "shows smoke" at threshold, image-level AP and box AP50.
// Images whose smoke was never labelled do not count for smoke. The
// detector should report down to a low score (0.05) for the APs to mean
// something.
func EvaluateStills(s *Stills, dir, split string, threshold float32) (StillsReport, error) {
	rep := StillsReport{Split: split, Threshold: threshold}
	data, err := os.ReadFile(filepath.Join(dir, "labels.json"))
	if err != nil {
		return rep, fmt.Errorf("%w: %w", ErrDataset, err)
	}
	var all []labelledImage
	if err := json.Unmarshal(data, &all); err != nil {
		return rep, fmt.Errorf("%w: labels.json: %w", ErrDataset, err)
	}
	type scored struct {
		score float32
		tp    bool
	}
	var boxPreds [2][]scored // per class: every detection, matched or not
	var imgPreds [2][]scored // per class: per image, best score, shows it
	var gtBoxes [2]int
	score := [2]*ClassScore{&rep.Fire, &rep.Smoke}
	var f decode.Frame
	for _, im := range all {
		if im.Split != split {
			continue
		}
		rep.Images++
		if err := readImage(filepath.Join(dir, "img", im.File), &f); err != nil {
			return rep, err
		}
		dets, err := s.Detect(&f)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", im.File, err)
		}
		for c := range 2 {
			if c == 1 && !im.SmokeLabeled {
				continue
			}
			var gt [][4]float32
			for _, b := range im.Boxes {
				if len(b) == 5 && int(b[0]) == c {
					w, h := float64(f.Width), float64(f.Height)
					gt = append(gt, [4]float32{float32((b[1] - b[3]/2) * w), float32((b[2] - b[4]/2) * h),
						float32((b[1] + b[3]/2) * w), float32((b[2] + b[4]/2) * h)})
				}
			}
			gtBoxes[c] += len(gt)
			matched := make([]bool, len(gt))
			var best float32
			for _, d := range dets { // highest score first
				if d.ClassID != c {
					continue
				}
				best = max(best, d.Confidence)
				m, mIoU := -1, float32(0)
				for i, g := range gt {
					if iou := models.IoU(d.Box, g); !matched[i] && iou > mIoU {
						m, mIoU = i, iou
					}
				}
				tp := m >= 0 && mIoU >= 0.5
				if tp {
					matched[m] = true
				}
				boxPreds[c] = append(boxPreds[c], scored{d.Confidence, tp})
			}
			shows := len(gt) > 0
			imgPreds[c] = append(imgPreds[c], scored{best, shows})
			sc := score[c]
			sc.Images++
			detected := best >= threshold && best > 0
			switch {
			case shows && detected:
				sc.TP++
			case shows:
				sc.FN++
			case detected:
				sc.FP++
			}
			if shows {
				sc.Positives++
			}
		}
	}
	for c := range 2 {
		sc := score[c]
		if sc.TP+sc.FP > 0 {
			sc.Precision = float64(sc.TP) / float64(sc.TP+sc.FP)
		}
		if sc.Positives > 0 {
			sc.Recall = float64(sc.TP) / float64(sc.Positives)
		}
		sc.AP50 = averagePrecision(boxPreds[c], gtBoxes[c], func(p scored) (float32, bool) { return p.score, p.tp })
		ip := slices.DeleteFunc(slices.Clone(imgPreds[c]), func(p scored) bool { return p.score == 0 })
		sc.ImageAP = averagePrecision(ip, sc.Positives, func(p scored) (float32, bool) { return p.score, p.tp })
	}
	return rep, nil
}

// averagePrecision returns the 101-point interpolated average precision of
// predictions against positives ground-truth items.
func averagePrecision[T any](preds []T, positives int, get func(T) (float32, bool)) float64 {
	if positives == 0 {
		return 0
	}
	p := slices.Clone(preds)
	slices.SortStableFunc(p, func(a, b T) int {
		sa, _ := get(a)
		sb, _ := get(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	prec := make([]float64, len(p))
	rec := make([]float64, len(p))
	tp := 0
	for i, x := range p {
		if _, ok := get(x); ok {
			tp++
		}
		prec[i] = float64(tp) / float64(i+1)
		rec[i] = float64(tp) / float64(positives)
	}
	var ap float64
	for k := range 101 {
		t := float64(k) / 100
		var best float64
		for i := range p {
			if rec[i] >= t {
				best = max(best, prec[i])
			}
		}
		ap += best / 101
	}
	return ap
}

// readImage decodes an image file into f as BGR24.
func readImage(path string, f *decode.Frame) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDataset, err)
	}
	defer file.Close()
	img, _, err := image.Decode(file)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDataset, path, err)
	}
	b := img.Bounds()
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
	}
	w, h := b.Dx(), b.Dy()
	f.Width, f.Height, f.Stride = w, h, 3*w
	if cap(f.Pix) < 3*w*h {
		f.Pix = make([]byte, 3*w*h)
	}
	f.Pix = f.Pix[:3*w*h]
	for y := range h {
		src := rgba.Pix[y*rgba.Stride:]
		dst := f.Pix[y*f.Stride:]
		for x := range w {
			dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x+2], src[4*x+1], src[4*x]
		}
	}
	return nil
}
