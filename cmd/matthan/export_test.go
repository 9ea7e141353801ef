package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/ingest/record"
)

// exportBase is the capture time of the first recorded frame.
var exportBase = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// recordIntersection records the intersection clip (30.3 s, keyframe every
// 4.267 s) as camera "cam" under data/recordings with the real recorder,
// in 10 s segments, capture times from exportBase.
func recordIntersection(t *testing.T, data string) {
	t.Helper()
	videos := detectDep(t, "MATTHAN_VIDEO_DIR", ".deps/video")
	d, err := decode.OpenFile(filepath.Join(videos, intersectionClip))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r := &record.Recorder{Root: conf.Config{Data: data}.RecordingsDir(), CameraID: "cam",
		SegmentDuration: 10 * time.Second, QueueLength: 1000}
	for { // the queue holds the whole clip; Run records it when stopped
		p, err := d.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		r.Push(ingest.AccessUnit{Params: d.Params(), NALUs: p.NALUs, PTS: p.PTS,
			Capture: exportBase.Add(p.PTS), Keyframe: p.Keyframe})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	segs, err := record.ReadIndex(r.Root, "cam")
	if err != nil || len(segs) != 3 {
		t.Fatalf("index %+v, %v: want 3 segments", segs, err)
	}
}

// TestExportCommand runs `matthan export` on a real recording: a 20 s
// range over its three segments, then bad flags and ranges.
func TestExportCommand(t *testing.T) {
	data := t.TempDir()
	recordIntersection(t, data)

	t.Run("clip", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "clip.mp4")
		var stdout, stderr bytes.Buffer
		err := export(context.Background(), []string{"-data", data, "-camera", "cam",
			"-from", "2025-03-14T16:27:01+07:00", "-to", "2025-03-14T09:27:21Z", "-out", out}, &stdout, &stderr)
		if err != nil {
			t.Fatalf("export: %v; stderr %s", err, stderr.String())
		}
		t.Logf("stdout:\n%s", stdout.String())
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		hexSum := hex.EncodeToString(sum[:])
		// from 09:27:01 = 8 s: pre-roll from the keyframe at 4.267 s; to
		// 09:27:21 = 28 s, covered by the frame shown from 27.967 s.
		for _, want := range []string{
			"out       " + out + "\n",
			"manifest  " + out + ".manifest.json\n",
			"sha256    " + hexSum + "\n",
			"start     2025-03-14T09:26:57.266Z\n",
			"end       2025-03-14T09:27:21.033Z\n",
			"(713 frames, ",
			", 3 segments)",
		} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("stdout does not say %q", want)
			}
		}
		var m record.Clip
		mb, err := os.ReadFile(out + record.ManifestSuffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(mb, &m); err != nil || m.SHA256 != hexSum || len(m.Sources) != 3 || m.Camera != "cam" {
			t.Errorf("manifest %s (%v): want sha256 %s, 3 sources", mb, err, hexSum)
		}
		if got, err := exec.Command("ffmpeg", "-v", "error", "-i", out, "-f", "null", "-").CombinedOutput(); err != nil || len(got) > 0 {
			t.Errorf("ffmpeg decode: %v: %s", err, got)
		}
		if got, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
			"-of", "csv=p=0", out).CombinedOutput(); err != nil || strings.TrimSpace(string(got)) != "713" {
			t.Errorf("ffprobe: %v: %s, want 713 frames", err, got)
		}
	})

	tests := []struct {
		name string
		args []string
		says []string
	}{
		{"bad from", []string{"-camera", "cam", "-from", "yesterday", "-to", "2025-03-14T09:27:21Z"}, []string{"-from", `"yesterday"`, "RFC 3339"}},
		{"bad to", []string{"-camera", "cam", "-from", "2025-03-14T09:27:01Z", "-to", "2025-03-14 09:27:21"}, []string{"-to", "RFC 3339"}},
		{"to before from", []string{"-camera", "cam", "-from", "2025-03-14T09:27:21Z", "-to", "2025-03-14T09:27:01Z"}, []string{"-to", "not after -from"}},
		{"unknown camera", []string{"-camera", "gate-7", "-from", "2025-03-14T09:27:01Z", "-to", "2025-03-14T09:27:21Z"}, []string{"-camera gate-7", "unknown camera", `"gate-7"`}},
		{"no recording", []string{"-camera", "cam", "-from", "2025-03-14T10:00:00Z", "-to", "2025-03-14T10:00:20Z"}, []string{"no recording", `"cam"`, "2025-03-14T10:00:00.000Z", "2025-03-14T10:00:20.000Z"}},
		{"no camera", []string{"-from", "2025-03-14T09:27:01Z", "-to", "2025-03-14T09:27:21Z"}, []string{"-camera is required"}},
		{"no to", []string{"-camera", "cam", "-from", "2025-03-14T09:27:01Z"}, []string{"-to is required"}},
		{"extra argument", []string{"-camera", "cam", "-from", "2025-03-14T09:27:01Z", "-to", "2025-03-14T09:27:21Z", "more"}, []string{"unexpected arguments"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "clip.mp4")
			args := append([]string{"-data", data, "-out", out}, tc.args...)
			var stdout, stderr bytes.Buffer
			err := export(context.Background(), args, &stdout, &stderr)
			if err == nil {
				t.Fatalf("no error; stdout %s", stdout.String())
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if _, serr := os.Stat(out); serr == nil || stdout.Len() > 0 {
				t.Errorf("wrote %s / printed %q despite the error", out, stdout.String())
			}
		})
	}
}
