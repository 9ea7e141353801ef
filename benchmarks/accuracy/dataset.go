package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/analyzer/firesmoke"
	"github.com/matthan/matthan/models"
)

// datasetModel is the fire and smoke model matthan analyze runs, measured
// on the labelled images as the stills mode runs it.
const datasetModel = "firesmoke_416"

// datasetThreshold is the score from which an image counts as showing
// fire or smoke: the rule's alert score (firesmoke.Config.AlertScore).
const datasetThreshold = 0.4

// DatasetResult is the still-image path measured on the labelled fire and
// smoke images.
type DatasetResult struct {
	Model string `json:"model"`
	firesmoke.StillsReport
}

// evaluateDataset runs the stills path (firesmoke.Stills: the whole image
// and, when much larger than the model's input, its tiles) of the fire and
// smoke model on the validation split of the labelled images in dir.
func evaluateDataset(dir, runtimeLib, modelsDir string) (*DatasetResult, error) {
	if err := models.InitRuntime(runtimeLib); err != nil {
		return nil, err
	}
	m, err := models.Zoo(datasetModel)
	if err != nil {
		return nil, err
	}
	// Down to a low score, so that the average precisions mean something.
	d, err := models.NewDetector(m, modelsDir, models.Options{Threshold: 0.05})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	frames, err := analyzer.NewFrameDetector(d)
	if err != nil {
		return nil, err
	}
	defer frames.Close()
	s, err := firesmoke.NewStills(frames, firesmoke.StillConfig{InputSize: max(m.Input.Width, m.Input.Height)})
	if err != nil {
		return nil, err
	}
	rep, err := firesmoke.EvaluateStills(s, dir, "val", datasetThreshold)
	if err != nil {
		return nil, fmt.Errorf("fire and smoke images %s: %w", dir, err)
	}
	return &DatasetResult{Model: datasetModel, StillsReport: rep}, nil
}

// writeDataset prints the still-image measurement.
func writeDataset(w io.Writer, r *DatasetResult) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nSTILL IMAGES (%s, %s split, %d images; an image shows the class when its best box scores ≥ %.2f)\n",
		r.Model, r.Split, r.Images, r.Threshold)
	fmt.Fprintln(tw, "class\timages\tshowing it\tTP\tFP\tFN\tprecision\trecall\timage AP\tbox AP50")
	for _, c := range []struct {
		name string
		s    firesmoke.ClassScore
	}{{"fire", r.Fire}, {"smoke", r.Smoke}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n", c.name, c.s.Images, c.s.Positives,
			c.s.TP, c.s.FP, c.s.FN, c.s.Precision, c.s.Recall, c.s.ImageAP, c.s.AP50)
	}
	tw.Flush()
}
