package analyzer_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/sink"
)

// benchDecodeClips are the cameras of BenchmarkPipelineDecodeModes: two
// with P-frames only (4.27 s and 2 s GOPs), two with B-frames (10 s GOPs).
var benchDecodeClips = []string{
	intersectionClip,
	"traffic_residential_street_cctv_parked_cars.mp4",
	overheadClip,
	"pedestrians_tram_square_elevated_day.mp4",
}

// Windows of BenchmarkPipelineDecodeModes.
const (
	benchRounds = 2                // runs of each way, alternating
	benchSlices = 4                // measured slices per run, for a median
	benchSlice  = 6 * time.Second  // length of one slice
	benchWarm   = 45 * time.Second // longest wait for every camera to know its stream (2 GOPs)
)

// BenchmarkPipelineDecodeModes measures the whole live path (camsim →
// loopback RTSP → ingest.Source → Pipeline → YOLOX-Nano) on four cameras,
// decoding every picture (as before issue #4) and decoding what the sampling
// needs, alternately in the same run, at 5 and 0.2 fps. It reports the
// process CPU per analysed frame of each (median of all their slices),
// their ratio, and the pictures decoded per access unit received.
func BenchmarkPipelineDecodeModes(b *testing.B) {
	det := newDetector(b, 0.3)
	files := make([]string, len(benchDecodeClips))
	for i, c := range benchDecodeClips {
		files[i] = testenv.Clip(b, c)
	}
	ctx := context.Background()
	sim, stopSim := serveClips(ctx, b, files...)
	defer stopSim()

	for _, fps := range []float64{5, 0.2} {
		b.Run(fmt.Sprintf("fps=%g", fps), func(b *testing.B) {
			var before, after decodeRun
			for b.Loop() {
				// before, after, after, before: a drift of the machine's
				// load weighs on both alike.
				for round := range benchRounds {
					for k := range 2 {
						every := (round+k)%2 == 0
						r := runDecodeCameras(b, ctx, sim.URLs(), fps, every, det)
						if every {
							before.add(r)
						} else {
							after.add(r)
						}
					}
				}
			}
			b.ReportMetric(before.cpuPerFrame*1e3, "before-cpu-ms/frame")
			b.ReportMetric(after.cpuPerFrame*1e3, "after-cpu-ms/frame")
			b.ReportMetric(after.cpuPerFrame/before.cpuPerFrame, "after/before")
			b.ReportMetric(before.decodedPerAU, "before-pictures/AU")
			b.ReportMetric(after.decodedPerAU, "after-pictures/AU")
			b.ReportMetric(before.analysedPerSec, "before-analysed/s")
			b.ReportMetric(after.analysedPerSec, "after-analysed/s")
			b.Logf("%g fps: modes %v; CPU s per analysed frame, slices before %v, after %v",
				fps, after.modes, before.slices, after.slices)
		})
	}
}

// decodeRun is what runDecodeCameras measured.
type decodeRun struct {
	cpuPerFrame    float64 // median over the slices, CPU seconds
	decodedPerAU   float64
	analysedPerSec float64
	slices         []float64
	modes          []string
	runs           int
}

// add pools the slices of r into d; the other figures are averaged.
func (d *decodeRun) add(r decodeRun) {
	n := float64(d.runs)
	d.slices = append(d.slices, r.slices...)
	sorted := slices.Sorted(slices.Values(d.slices))
	d.cpuPerFrame = sorted[len(sorted)/2]
	d.decodedPerAU = (d.decodedPerAU*n + r.decodedPerAU) / (n + 1)
	d.analysedPerSec = (d.analysedPerSec*n + r.analysedPerSec) / (n + 1)
	d.modes = r.modes
	d.runs++
}

// runDecodeCameras streams every URL into a pipeline sampling fps (forced
// to decode every picture when every is set), waits until each knows its
// stream, then measures benchSlices slices.
func runDecodeCameras(b *testing.B, ctx context.Context, urls []string, fps float64, every bool, det analyzer.Detector) decodeRun {
	b.Helper()
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	pipes := make([]*analyzer.Pipeline, len(urls))
	for i, u := range urls {
		id := fmt.Sprintf("cam%d", i)
		p := &analyzer.Pipeline{CameraID: id, FPS: fps, Detector: det, DecodeEveryFrame: every, Publish: func(sink.Event) {}}
		src := &ingest.Source{CameraID: id, URL: u, OnAccessUnit: p.Push}
		pipes[i] = p
		wg.Go(func() { p.Run(rctx) })
		wg.Go(func() { src.Run(rctx) })
	}
	deadline := time.Now().Add(benchWarm)
	for time.Now().Before(deadline) {
		ready := 0
		for _, p := range pipes {
			if s := p.Stats(); s.Keyframes >= 3 && s.FramesInferred > 0 {
				ready++
			}
		}
		if ready == len(pipes) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var r decodeRun
	sum := func() (st analyzer.Stats) {
		for _, p := range pipes {
			s := p.Stats()
			st.AccessUnits += s.AccessUnits
			st.FramesDecoded += s.FramesDecoded
			st.FramesInferred += s.FramesInferred
		}
		return st
	}
	first, t0 := sum(), time.Now()
	for range benchSlices {
		s0, c0 := sum(), cpuTime()
		time.Sleep(benchSlice)
		s1, c1 := sum(), cpuTime()
		if n := s1.FramesInferred - s0.FramesInferred; n > 0 {
			r.slices = append(r.slices, (c1-c0).Seconds()/float64(n))
		}
	}
	last, secs := sum(), time.Since(t0).Seconds()
	if len(r.slices) == 0 {
		b.Fatal("no frame analysed")
	}
	sorted := slices.Sorted(slices.Values(r.slices))
	r.cpuPerFrame = sorted[len(sorted)/2]
	r.decodedPerAU = float64(last.FramesDecoded-first.FramesDecoded) / float64(last.AccessUnits-first.AccessUnits)
	r.analysedPerSec = float64(last.FramesInferred-first.FramesInferred) / secs
	for _, p := range pipes {
		r.modes = append(r.modes, p.Stats().DecodeMode.String())
	}
	return r
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
