package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/deploy/testenv"
)

// TestHarnessOnSegment runs the harness end to end (build matthan, run
// "matthan analyze" at two rates, score) on the first 6 s of the overhead
// road clip with its ground truth cut to match. It proves the harness
// works; the accuracy itself is the harness's report, not asserted here.
func TestHarnessOnSegment(t *testing.T) {
	root := testenv.Root(t)
	t.Setenv("MATTHAN_ONNXRUNTIME_LIB", testenv.ONNXRuntime(t))
	t.Setenv("MATTHAN_MODELS_DIR", testenv.ModelsDir(t))
	tmp := t.TempDir()
	clip := "traffic_road_overhead_both_directions_dusk.mp4"
	seg := filepath.Join(tmp, "segment.mp4")
	if out, err := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-i", testenv.Clip(t, clip),
		"-t", "6", "-c", "copy", seg).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	truth, err := ReadTruth(filepath.Join(root, "benchmarks", "groundtruth", strings.TrimSuffix(clip, ".mp4")+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	keep := truth.Crossings[:0]
	for _, c := range truth.Crossings {
		if c.T <= 5.5 {
			keep = append(keep, c)
		}
	}
	truth.Crossings, truth.Uncertain = keep, nil
	if len(keep) == 0 {
		t.Fatal("no ground-truth crossing in the first 6 s")
	}

	bin := filepath.Join(tmp, "matthan")
	if err := build(root, bin); err != nil {
		t.Fatal(err)
	}
	results, err := Run([]Case{{Truth: truth, Video: seg}}, Options{Bin: bin, FPS: []float64{5, 2}, Stills: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("%d results, want one per rate and one with fire and smoke stills", len(results))
	}
	if st := results[2]; st.StillsS != 2 || st.Smoke == nil || !st.Smoke.Available || st.Counts != nil {
		t.Errorf("stills run %+v, want smoke scored only, every 2 s", st)
	}
	for _, r := range results[:2] {
		want := int(6 * r.FPS)
		if r.Frames < want-1 || r.Frames > want+1 {
			t.Errorf("%g fps: %d frames analysed in 6 s, want about %d", r.FPS, r.Frames, want)
		}
		if len(r.Counts) != 3 {
			t.Fatalf("%g fps: %d count rows, want in, out and total", r.FPS, len(r.Counts))
		}
		in, total := r.Counts[0], r.Counts[2]
		if in.Direction != "in" || total.Direction != "total" || in.Truth != len(keep) {
			t.Errorf("%g fps: rows %+v / %+v, want in with truth %d", r.FPS, in, total, len(keep))
		}
		if in.Matched+in.Missed != in.Truth || in.Matched+in.Extra+in.ExtraUncertain != in.Counted {
			t.Errorf("%g fps: matched %d + missed %d + extra %d do not add up to truth %d and counted %d",
				r.FPS, in.Matched, in.Missed, in.Extra, in.Truth, in.Counted)
		}
		if r.Smoke == nil {
			t.Errorf("%g fps: no smoke entry for a clip whose truth says none", r.FPS)
		}
		t.Logf("%g fps: in truth %d counted %d (matched %d), out truth %d counted %d, unconfirmed %d",
			r.FPS, in.Truth, in.Counted, in.Matched, r.Counts[1].Truth, r.Counts[1].Counted, r.UnconfirmedCounts)
	}
	var table bytes.Buffer
	WriteTable(&table, results)
	if !strings.Contains(table.String(), "traffic_road_overhead_both_directions_dusk") || !strings.Contains(table.String(), "stills 2s") {
		t.Errorf("table lacks the clip:\n%s", table.String())
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatal(err)
	}
}

// TestEvaluateDataset runs the stills measurement on a small labelled set
// cut from the real one (the first 12 validation images): every image is
// counted once per class, and the table shows both classes.
func TestEvaluateDataset(t *testing.T) {
	src := testenv.Path(t, "MATTHAN_FIRESMOKE_DATA", filepath.Join("datasets", "firesmoke"))
	data, err := os.ReadFile(filepath.Join(src, "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []map[string]any
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	var some []map[string]any
	for _, im := range all {
		if im["split"] != "val" || len(some) == 12 {
			continue
		}
		some = append(some, im)
		file := im["file"].(string)
		b, err := os.ReadFile(filepath.Join(src, "img", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "img", file), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(some)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}

	r, err := evaluateDataset(dir, testenv.ONNXRuntime(t), testenv.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Images != 12 || r.Fire.Images != 12 || r.Fire.TP+r.Fire.FP+r.Fire.FN > 12 || r.Model != datasetModel {
		t.Errorf("report %+v, want the 12 images counted once for fire", r)
	}
	var table bytes.Buffer
	writeDataset(&table, r)
	for _, want := range []string{"val split, 12 images", "\nfire ", "\nsmoke "} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	t.Log(table.String())
}
