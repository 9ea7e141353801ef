package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"github.com/matthan/matthan/deploy/testenv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// detectDep returns $env, else <repo>/rel, failing (not skipping) the test
// when it is missing (see deploy/testenv).
func detectDep(t *testing.T, env, rel string) string {
	return testenv.Path(t, env, strings.TrimPrefix(rel, ".deps/"))
}

// detectEnv points detect at the real runtime and models and returns the
// footage folder.
func detectEnv(t *testing.T) string {
	t.Helper()
	t.Setenv(models.RuntimeEnv, detectDep(t, models.RuntimeEnv, ".deps/lib/libonnxruntime.so.1"))
	t.Setenv(models.ModelsDirEnv, detectDep(t, models.ModelsDirEnv, ".deps/models"))
	return detectDep(t, "MATTHAN_VIDEO_DIR", ".deps/video")
}

// ffmpeg runs the ffmpeg CLI.
func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-loglevel", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, out)
	}
}

const intersectionClip = "traffic_intersection_signals_cctv_day.mp4"

// intersectionStill extracts the frame at t = 10 s of the intersection clip.
func intersectionStill(t *testing.T, videos string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "intersection.png")
	ffmpeg(t, "-ss", "10", "-i", filepath.Join(videos, intersectionClip), "-frames:v", "1", p)
	return p
}

// captureStdout runs f with os.Stdout sent to a file and returns what f wrote.
func captureStdout(t *testing.T, f func() error) (string, error) {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	saved := os.Stdout
	os.Stdout = tmp
	runErr := f()
	os.Stdout = saved
	b, err := os.ReadFile(tmp.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b), runErr
}

func parseLines(t *testing.T, out string) []frameResult {
	t.Helper()
	var res []frameResult
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var r frameResult
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		res = append(res, r)
	}
	return res
}

// clearCars are the five unoccluded cars on the roads of the intersection
// still (hand-boxed, see realFrames in models/detector_test.go for the scene).
var clearCars = [][4]float32{
	{277, 122, 392, 192}, // black SUV, centre
	{420, 131, 525, 193}, // silver hatchback
	{12, 72, 60, 109},    // black car, upper left
	{544, 64, 580, 99},   // black car, upper-right road
	{594, 205, 640, 259}, // red car, right edge
}

func TestDetectJSONStill(t *testing.T) {
	still := intersectionStill(t, detectEnv(t))
	out, err := captureStdout(t, func() error { return detectMain([]string{"-json", still}) })
	if err != nil {
		t.Fatal(err)
	}
	lines := parseLines(t, out)
	if len(lines) != 1 {
		t.Fatalf("%d JSON lines for one image, want 1:\n%s", len(lines), out)
	}
	r := lines[0]
	if r.Frame != 0 || r.TimeS != 0 || r.Width != 640 || r.Height != 480 {
		t.Errorf("frame header %+v, want frame 0 at 0 s, 640×480", r)
	}
	products := map[string]bool{"person": true, "bicycle": true, "car": true, "motorcycle": true, "bus": true, "truck": true}
	for i, d := range r.Detections {
		if !products[d.Class] || d.Confidence < 0.3 || d.Confidence > 1 ||
			d.Box[0] < 0 || d.Box[1] < 0 || d.Box[2] > 640 || d.Box[3] > 480 || d.Box[2] <= d.Box[0] || d.Box[3] <= d.Box[1] {
			t.Errorf("detection %+v: not a product class, below the 0.3 threshold or outside the frame", d)
		}
		if i > 0 && d.Confidence > r.Detections[i-1].Confidence {
			t.Errorf("detections not sorted by confidence: %v", r.Detections)
		}
	}
	for _, car := range clearCars {
		found := false
		for _, d := range r.Detections {
			b := [4]float32{float32(d.Box[0]), float32(d.Box[1]), float32(d.Box[2]), float32(d.Box[3])}
			found = found || (d.Class == "car" || d.Class == "truck") && models.IoU(b, car) >= 0.5
		}
		if !found {
			t.Errorf("car %v not found in %v", car, r.Detections)
		}
	}
	t.Logf("%d detections: %s", len(r.Detections), strings.TrimSpace(out))

	// A stricter threshold keeps a subset.
	out, err = captureStdout(t, func() error { return detectMain([]string{"-json", "-threshold", "0.8", still}) })
	if err != nil {
		t.Fatal(err)
	}
	strict := parseLines(t, out)[0]
	if len(strict.Detections) == 0 || len(strict.Detections) >= len(r.Detections) {
		t.Errorf("-threshold 0.8 gave %d detections, want fewer than %d and some", len(strict.Detections), len(r.Detections))
	}
	for _, d := range strict.Detections {
		if d.Confidence < 0.8 {
			t.Errorf("-threshold 0.8 kept %+v", d)
		}
	}
}

func TestDetectAnnotatedStill(t *testing.T) {
	still := intersectionStill(t, detectEnv(t))
	out, err := captureStdout(t, func() error { return detectMain([]string{still}) })
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(still, ".png") + ".detections.jpg"
	if strings.TrimSpace(out) != want {
		t.Fatalf("printed %q, want %q", out, want)
	}
	img := gocv.IMRead(want, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() || img.Cols() != 640 || img.Rows() != 480 {
		t.Fatalf("%s: not a 640×480 image", want)
	}
	// The SUV's box is drawn in the car colour (green) down its left edge.
	green := 0
	for y := 140; y < 190; y += 5 {
		for x := 270; x < 286; x++ {
			v := img.GetVecbAt(y, x) // B, G, R
			if v[1] > 150 && v[0] < 100 && v[2] < 100 {
				green++
				break
			}
		}
	}
	if green < 8 {
		t.Errorf("only %d of 10 rows cross a green box edge left of the SUV", green)
	}
}

func TestDetectVideo(t *testing.T) {
	videos := detectEnv(t)
	// Three seconds from t = 9 s: frame 30 is the t = 10 s still.
	clip := filepath.Join(t.TempDir(), "cut.mp4")
	ffmpeg(t, "-ss", "9", "-i", filepath.Join(videos, intersectionClip), "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", clip)

	out, err := captureStdout(t, func() error { return detectMain([]string{"-json", "-fps", "2", clip}) })
	if err != nil {
		t.Fatal(err)
	}
	lines := parseLines(t, out)
	if len(lines) != 6 {
		t.Fatalf("%d lines for 3 s at -fps 2, want 6", len(lines))
	}
	for i, r := range lines {
		if r.Frame != 15*i || r.TimeS < 0.5*float64(i)-0.02 || r.TimeS > 0.5*float64(i)+0.02 || r.Width != 640 || r.Height != 480 {
			t.Errorf("line %d: frame %d at %.3f s (%d×%d), want frame %d at %.1f s", i, r.Frame, r.TimeS, r.Width, r.Height, 15*i, 0.5*float64(i))
		}
	}
	at10 := lines[2] // t = 1 s into the cut
	cars := 0
	for _, car := range clearCars {
		for _, d := range at10.Detections {
			b := [4]float32{float32(d.Box[0]), float32(d.Box[1]), float32(d.Box[2]), float32(d.Box[3])}
			if models.IoU(b, car) >= 0.5 {
				cars++
				break
			}
		}
	}
	if cars < 4 {
		t.Errorf("the re-encoded t = 10 s frame matched %d of the 5 clear cars: %v", cars, at10.Detections)
	}

	out, err = captureStdout(t, func() error { return detectMain([]string{"-fps", "5", clip}) })
	if err != nil {
		t.Fatal(err)
	}
	annotated := strings.TrimSuffix(clip, ".mp4") + ".detections.mp4"
	if strings.TrimSpace(out) != annotated {
		t.Fatalf("printed %q, want %q", out, annotated)
	}
	v, err := decode.OpenVideo(annotated)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var f decode.Frame
	n := 0
	for {
		err := v.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 15 || f.Width != 640 || f.Height != 480 {
		t.Errorf("annotated video has %d frames of %d×%d, want 15 of 640×480", n, f.Width, f.Height)
	}
	if codec := videoCodec(t, annotated); codec != "h264" {
		t.Errorf("annotated video is %s, want h264", codec)
	}
}

// videoCodec returns the codec name of the first video stream of file.
func videoCodec(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
		"-of", "default=noprint_wrappers=1:nokey=1", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", file, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestDetectAnnotateOut writes the annotated copy where -annotate says, for
// a still and a video, alone and with -json (stdout then carries only the
// JSON lines).
func TestDetectAnnotateOut(t *testing.T) {
	videos := detectEnv(t)
	still := intersectionStill(t, videos)
	clip := filepath.Join(t.TempDir(), "cut.mp4")
	ffmpeg(t, "-ss", "9", "-i", filepath.Join(videos, intersectionClip), "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", clip)
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		out    string
		json   int // JSON lines expected on stdout; 0: the path is printed instead
		frames int // video frames expected in out; 0: a still
	}{
		{"still to png", []string{"-annotate", filepath.Join(dir, "a.png"), still}, filepath.Join(dir, "a.png"), 0, 0},
		{"still, json and jpg", []string{"-json", "-annotate", filepath.Join(dir, "b.jpg"), still}, filepath.Join(dir, "b.jpg"), 1, 0},
		{"video to mp4", []string{"-fps", "4", "-annotate", filepath.Join(dir, "c.mp4"), clip}, filepath.Join(dir, "c.mp4"), 0, 4},
		{"video, json and mp4", []string{"-json", "-fps", "2", "-annotate", filepath.Join(dir, "d.mp4"), clip}, filepath.Join(dir, "d.mp4"), 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := captureStdout(t, func() error { return detectMain(tt.args) })
			if err != nil {
				t.Fatal(err)
			}
			if tt.json == 0 && strings.TrimSpace(out) != tt.out {
				t.Errorf("printed %q, want %q", out, tt.out)
			}
			if tt.json > 0 {
				if n := len(parseLines(t, out)); n != tt.json {
					t.Errorf("%d JSON lines, want %d", n, tt.json)
				}
			}
			if tt.frames == 0 {
				img := gocv.IMRead(tt.out, gocv.IMReadColor)
				defer img.Close()
				if img.Empty() || img.Cols() != 640 || img.Rows() != 480 {
					t.Fatalf("%s: not a 640×480 image", tt.out)
				}
				return
			}
			if codec := videoCodec(t, tt.out); codec != "h264" {
				t.Errorf("%s is %s, want h264", tt.out, codec)
			}
			v, err := decode.OpenVideo(tt.out)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			var f decode.Frame
			n := 0
			for v.Next(&f) == nil {
				n++
			}
			if n != tt.frames {
				t.Errorf("%s has %d frames, want %d", tt.out, n, tt.frames)
			}
		})
	}
	for _, name := range []string{still + ".detections.jpg", strings.TrimSuffix(still, ".png") + ".detections.jpg", strings.TrimSuffix(clip, ".mp4") + ".detections.mp4"} {
		if _, err := os.Stat(name); err == nil {
			t.Errorf("%s written although -annotate named another file", name)
		}
	}
}

func TestDetectRejects(t *testing.T) {
	videos := detectEnv(t)
	clip := filepath.Join(videos, intersectionClip)
	notImage := filepath.Join(t.TempDir(), "notes.png")
	if err := os.WriteFile(notImage, []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no file", nil, []string{"-json"}, "want one FILE"},
		{"two files", nil, []string{clip, clip}, "want one FILE"},
		{"missing file", nil, []string{"/nonexistent/x.mp4"}, "/nonexistent/x.mp4: no such file"},
		{"folder", nil, []string{videos}, "is a folder"},
		{"unknown model", nil, []string{"-model", "yolov9000", clip}, `unknown model "yolov9000" (known: `},
		{"bad threshold", nil, []string{"-threshold", "2", clip}, "-threshold 2"},
		{"bad threads", nil, []string{"-threads", "0", clip}, "-threads 0"},
		{"bad fps", nil, []string{"-fps", "-1", clip}, "-fps -1"},
		{"missing runtime", map[string]string{models.RuntimeEnv: "/nonexistent/libonnxruntime.so.1"}, []string{clip},
			`ONNX Runtime library not found at /nonexistent/libonnxruntime.so.1 (set MATTHAN_ONNXRUNTIME_LIB or run "make deps")`},
		{"missing models", map[string]string{models.ModelsDirEnv: "/nonexistent/models"}, []string{clip}, "/nonexistent/models/yolox_nano.onnx"},
		{"unreadable image", nil, []string{notImage}, "not an image"},
		{"annotate a still as video", nil, []string{"-annotate", "/tmp/x.mp4", notImage}, "-annotate /tmp/x.mp4: the input is an image"},
		{"annotate a video as still", nil, []string{"-annotate", "/tmp/x.jpg", clip}, "-annotate /tmp/x.jpg: the input is a video, want an .mp4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			err := detect(tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("detect(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("wrote %q to stdout on error", stdout.String())
			}
		})
	}
}
