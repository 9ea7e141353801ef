package analyzer

import (
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// benchObjects is the crowded frame the issue sets the budget for.
const benchObjects = 50

// benchScene has four counting lines and two crowd zones, more than a
// typical camera.
const benchScene = `
camera: bench
lines:
  - {id: l1, points: [[0.25, 0.95], [0.25, 0.05]]}
  - {id: l2, points: [[0.50, 0.95], [0.50, 0.05]]}
  - {id: l3, points: [[0.75, 0.95], [0.75, 0.05]]}
  - {id: l4, points: [[0.05, 0.50], [0.95, 0.50]]}
zones:
  - {id: z1, kind: crowd, polygon: [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]], threshold: 20}
  - {id: z2, kind: crowd, polygon: [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]], threshold: 20}
`

// syntheticFrame returns benchObjects detections on a 1280×720 frame at
// step i of 5 fps motion: 10 lanes of 5 objects (cars and people) moving
// left to right at lane-dependent speeds, wrapping around, with a few
// pixels of jitter, so tracks are born, cross lines and end.
func syntheticFrame(i int, dst []models.Detection) []models.Detection {
	dst = dst[:0]
	for lane := range 10 {
		y := 40 + float32(lane)*65
		speed := 8 + float32(lane)*3 // pixels per frame at 5 fps
		for k := range 5 {
			x := float32(int(float32(k)*260+float32(i)*speed) % 1300)
			jit := float32((i*7+lane*3+k)%5) - 2
			class, w, h := "car", float32(90), float32(50)
			if (lane+k)%3 == 0 {
				class, w, h = "person", 24, 60
			}
			dst = append(dst, models.Detection{Class: class, Confidence: 0.35 + float32((lane+k)%6)*0.1,
				Box: [4]float32{x + jit, y + jit, x + w + jit, y + h}})
		}
	}
	return dst
}

// BenchmarkTrackingVsInference measures, in one run, the per-frame cost of
// what the Analyst does after the detector (tracker, counting lines, crowd
// zones) on benchObjects objects per frame, and the cost of the inference
// it follows (preprocessing and YOLOX-Nano on a real frame), and reports
// their ratio. Issue #5's budget: rules_over_inference_pct < 5.
func BenchmarkTrackingVsInference(b *testing.B) {
	if err := models.InitRuntime(testenv.ONNXRuntime(b)); err != nil {
		b.Fatal(err)
	}
	m, err := models.Zoo("yolox_nano")
	if err != nil {
		b.Fatal(err)
	}
	det, err := models.NewDetector(m, testenv.ModelsDir(b), models.Options{Threshold: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	defer det.Close()
	sc, err := scene.Parse([]byte(benchScene))
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewAnalyst(AnalystConfig{CameraID: "bench", Scene: &sc, Detector: det, FPS: 5})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()

	v, err := decode.OpenVideo(testenv.Clip(b, "traffic_intersection_signals_cctv_day.mp4"))
	if err != nil {
		b.Fatal(err)
	}
	var real decode.Frame
	err = v.Next(&real)
	v.Close()
	if err != nil {
		b.Fatal(err)
	}
	// The rules only read the frame's size: a 1280×720 frame for the
	// synthetic boxes.
	synth := &decode.Frame{Width: 1280, Height: 720, Stride: 3 * 1280}

	var (
		dets          []models.Detection
		inferNS       time.Duration
		rulesNS       time.Duration
		tracksPerStep int
		t0            = time.Unix(1_700_000_000, 0)
	)
	// Warm both paths (session, tracker population) outside the timing.
	for i := range 25 {
		dets = syntheticFrame(i, dets)
		var res Analysis
		if err := a.observe(t0.Add(time.Duration(i)*200*time.Millisecond), synth, dets, &res); err != nil {
			b.Fatal(err)
		}
	}
	step := 25
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		input, lb, err := a.pre.Tensor(&real)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := det.Detect(input, lb, real.Width, real.Height); err != nil {
			b.Fatal(err)
		}
		inferNS += time.Since(start)

		dets = syntheticFrame(step, dets)
		var res Analysis
		start = time.Now()
		if err := a.observe(t0.Add(time.Duration(step)*200*time.Millisecond), synth, dets, &res); err != nil {
			b.Fatal(err)
		}
		rulesNS += time.Since(start)
		tracksPerStep += len(res.Tracks)
		step++
	}
	n := float64(b.N)
	b.ReportMetric(float64(inferNS.Microseconds())/n/1000, "ms/inference")
	b.ReportMetric(float64(rulesNS.Nanoseconds())/n/1000, "µs/rules-frame")
	b.ReportMetric(float64(tracksPerStep)/n, "tracks/frame")
	b.ReportMetric(100*float64(rulesNS)/float64(inferNS), "rules_over_inference_pct")
}
