package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	results, err := Run([]Case{{Truth: truth, Video: seg}}, Options{Bin: bin, FPS: []float64{5, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want one per rate", len(results))
	}
	for _, r := range results {
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
	if !strings.Contains(table.String(), "traffic_road_overhead_both_directions_dusk") {
		t.Errorf("table lacks the clip:\n%s", table.String())
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatal(err)
	}
}
