package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/matthan/matthan/ingest/decode"
)

const analyzeScene = `
camera: overhead
lines:
  - id: center_x50
    points: [[0.50, 0.98], [0.50, 0.02]]
`

// TestAnalyzeJSONAndAnnotate runs "matthan analyze" on a real clip: JSON
// event lines with offset_s, frame lines, a last summary line with the
// counts per line × direction, and an annotated H.264 MP4 with one frame
// per analysed frame.
func TestAnalyzeJSONAndAnnotate(t *testing.T) {
	dir := detectEnv(t)
	tmp := t.TempDir()
	scenePath := filepath.Join(tmp, "scene.yaml")
	if err := os.WriteFile(scenePath, []byte(analyzeScene), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "annotated.mp4")
	var stdout, stderr bytes.Buffer
	err := analyze(context.Background(), []string{"-scene", scenePath, "-fps", "5", "-json", "-frames", "-annotate", out,
		filepath.Join(dir, "traffic_road_overhead_both_directions_dusk.mp4")}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var (
		lines   []map[string]any
		frames  int
		counted int
	)
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) < 2 {
		t.Fatalf("%d lines", len(lines))
	}
	last := lines[len(lines)-1]
	if last["type"] != "summary" {
		t.Fatalf("last line is %v, want the summary", last["type"])
	}
	for _, m := range lines[:len(lines)-1] {
		switch m["type"] {
		case "summary":
			t.Fatal("a summary before the last line")
		case "frame":
			frames++
			if cs, ok := m["crossings"].([]any); ok {
				counted += len(cs)
			}
			checkObjects(t, m)
		default:
			if _, ok := m["offset_s"].(float64); !ok {
				t.Errorf("event %v has no offset_s", m["type"])
			}
			if m["camera_id"] != "overhead" {
				t.Errorf("event camera_id %v, want the scene's camera", m["camera_id"])
			}
		}
	}
	if frames < 98 || frames > 101 {
		t.Errorf("%d frame lines for 20 s at 5 fps, want about 100", frames)
	}
	counts := last["counts"].(map[string]any)["center_x50"].(map[string]any)
	sum := 0
	for _, dir := range []string{"in", "out"} {
		byClass, ok := counts[dir].(map[string]any)
		if !ok {
			t.Fatalf("summary counts lack direction %s: %v", dir, counts)
		}
		for _, n := range byClass {
			sum += int(n.(float64))
		}
	}
	if sum != counted || sum == 0 {
		t.Errorf("summary counts %d crossings, the frame lines %d", sum, counted)
	}
	if int(last["analysed"].(float64)) != frames {
		t.Errorf("summary analysed %v, frame lines %d", last["analysed"], frames)
	}

	v, err := decode.OpenVideo(out)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var f decode.Frame
	n := 0
	for ; ; n++ {
		if err := v.Next(&f); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if v.Codec() != "h264" && v.Codec() != "mpeg4" {
		t.Errorf("annotated codec %s", v.Codec())
	}
	if n != frames || f.Width != 640 || f.Height != 360 {
		t.Errorf("annotated video: %d frames of %dx%d, want %d of 640x360", n, f.Width, f.Height, frames)
	}
}

func TestAnalyzeFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "want one VIDEO"},
		{[]string{"-fps", "0", "x.mp4"}, "-fps"},
		{[]string{"-fps", "100", "x.mp4"}, "-fps"},
		{[]string{"-frames", "x.mp4"}, "-frames needs -json"},
		{[]string{"-annotate", "out.avi", "x.mp4"}, ".mp4"},
		{[]string{"-start", "yesterday", "x.mp4"}, "RFC 3339"},
		{[]string{"-threshold", "1.5", "x.mp4"}, "-threshold"},
	} {
		_, err := parseAnalyzeFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	var stderr bytes.Buffer
	err := analyze(context.Background(), []string{"-scene", filepath.Join(t.TempDir(), "missing.yaml"), "x.mp4"}, io.Discard, &stderr)
	if err == nil {
		t.Error("a missing video and scene were accepted")
	}
}

// checkObjects checks a frame line's objects against its track counts: one
// per track, the confirmed ones flagged, boxes normalised and not empty,
// and the id of every crossing among them.
func checkObjects(t *testing.T, m map[string]any) {
	t.Helper()
	objs, _ := m["objects"].([]any)
	confirmed, ids := 0, map[float64]bool{}
	for _, o := range objs {
		obj := o.(map[string]any)
		ids[obj["id"].(float64)] = true
		if obj["confirmed"] == true {
			confirmed++
		}
		b := obj["box"].([]any)
		x1, y1, x2, y2 := b[0].(float64), b[1].(float64), b[2].(float64), b[3].(float64)
		if !(x2 > x1 && y2 > y1 && x1 > -0.5 && x2 < 1.5 && y1 > -0.5 && y2 < 1.5) || obj["class"] == "" {
			t.Errorf("offset %v: object %v", m["offset_s"], obj)
		}
	}
	if len(objs) != int(m["tracks"].(float64)) || confirmed != int(m["confirmed"].(float64)) {
		t.Errorf("offset %v: %d objects (%d confirmed), line says %v tracks (%v confirmed)", m["offset_s"], len(objs), confirmed, m["tracks"], m["confirmed"])
	}
	cs, _ := m["crossings"].([]any)
	for _, c := range cs {
		if id := c.(map[string]any)["track_id"].(float64); !ids[id] {
			t.Errorf("offset %v: crossing by track %v, not among the objects", m["offset_s"], id)
		}
	}
}
