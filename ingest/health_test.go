package ingest_test

import (
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
)

// TestSourceHealthNumbers checks Status.Bitrate against the bytes the
// consumer received, and the uptime ratios against the states observed
// across a camera outage.
func TestSourceHealthNumbers(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	newCamera := func() *camsim.Server { return &camsim.Server{Listen: addr, Files: []string{clip(t, wildfire)}} }
	stopCam := startCamera(t, newCamera())
	var got collector
	src := &ingest.Source{CameraID: "cam-health", URL: "rtsp://" + addr + "/" + wildfireName, OnAccessUnit: got.add}
	started := time.Now()
	runSource(t, src)

	// observe polls the state every 10 ms for d, or until stop holds,
	// adding up the time it saw the source online.
	var up time.Duration
	last := started
	observe := func(d time.Duration, stop func(ingest.Status) bool) {
		t.Helper()
		for end := time.Now().Add(d); ; {
			st := src.Status()
			now := time.Now()
			if st.State == ingest.StateOnline {
				up += now.Sub(last)
			}
			last = now
			if stop != nil && stop(st) {
				return
			}
			if now.After(end) {
				if stop != nil {
					t.Fatalf("state %v after %v", st.State, d)
				}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	observe(5*time.Second, func(st ingest.Status) bool { return st.Frames > 0 })
	observe(6*time.Second, nil)

	// Bitrate: the NAL unit bytes of the last 5 s, as the consumer saw them.
	st := src.Status()
	now := time.Now()
	var bytes int
	var first time.Time
	for _, u := range got.snapshot() {
		if now.Sub(u.arrival) > 5*time.Second {
			continue
		}
		if first.IsZero() {
			first = u.arrival
			continue
		}
		for _, b := range u.au.NALUs {
			bytes += len(b)
		}
	}
	want := float64(bytes) * 8 / now.Sub(first).Seconds()
	t.Logf("Bitrate %.0f b/s, from the received units %.0f b/s; FPS %.1f; loss %.3f", st.Bitrate, want, st.FPS, st.PacketLoss)
	if st.Bitrate < want*0.9 || st.Bitrate > want*1.1 || want < 50_000 {
		t.Errorf("Bitrate = %.0f b/s, want %.0f ±10%%", st.Bitrate, want)
	}
	if st.PacketLoss != 0 {
		t.Errorf("PacketLoss = %v over loopback TCP", st.PacketLoss)
	}

	// Four seconds without the camera.
	stopCam()
	observe(2*time.Second, func(st ingest.Status) bool { return st.State == ingest.StateOffline })
	observe(4*time.Second, nil)
	startCamera(t, newCamera())
	observe(10*time.Second, func(st ingest.Status) bool { return st.State == ingest.StateOnline })
	observe(time.Second, nil)
	st = src.Status()
	wantUp := up.Seconds() / time.Since(started).Seconds()
	t.Logf("Uptime %.3f, today %.3f, observed %.3f", st.Uptime, st.UptimeToday, wantUp)
	if wantUp > 0.8 || st.Uptime < wantUp-0.02 || st.Uptime > wantUp+0.02 {
		t.Errorf("Uptime = %.3f, want %.3f ±0.02 (observed, with 4 s down)", st.Uptime, wantUp)
	}
	if day := func(t time.Time) int { return t.UTC().YearDay() }; day(started) == day(time.Now()) && st.UptimeToday != st.Uptime {
		t.Errorf("UptimeToday = %.3f, want Uptime (%.3f) on the day Run started", st.UptimeToday, st.Uptime)
	}
}

// TestSourceDegraded: a camera whose frame rate collapses, and one whose RTP
// packets get lost, are degraded after a few seconds, and online again once
// the stream is good.
func TestSourceDegraded(t *testing.T) {
	t.Parallel()
	t.Run("frame rate", func(t *testing.T) {
		t.Parallel()
		cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}}
		startCamera(t, cam)
		reg := prometheus.NewRegistry()
		metrics, err := ingest.NewMetrics(reg)
		if err != nil {
			t.Fatal(err)
		}
		var logs logBuffer
		var got collector
		src := &ingest.Source{
			CameraID:     "cam-slow",
			URL:          "rtsp://" + cam.Addr() + "/" + wildfireName,
			ReadTimeout:  20 * time.Second, // longer than the pause: the source stays connected
			OnAccessUnit: got.add,
			Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
			Metrics:      metrics,
		}
		runSource(t, src)
		waitFor(t, 5*time.Second, "frames", func() bool { return got.len() > 0 })
		time.Sleep(6500 * time.Millisecond) // the nominal rate needs a full 5 s window
		if st := src.Status(); st.State != ingest.StateOnline {
			t.Fatalf("state %v (%s) with the camera streaming", st.State, st.Degraded)
		}
		if err := cam.Pause(wildfireName); err != nil {
			t.Fatal(err)
		}
		paused := time.Now()
		// Under half the rate after 2.5 s of silence, degraded 3 s later.
		waitFor(t, 10*time.Second, "degraded", func() bool { return src.Status().State == ingest.StateDegraded })
		took := time.Since(paused)
		st := src.Status()
		t.Logf("degraded %v after the pause: %s", took.Round(time.Millisecond), st.Degraded)
		if took < 5*time.Second {
			t.Errorf("degraded %v after the pause, before the rule allows", took)
		}
		if !regexp.MustCompile(`^frame rate [0-9.]+/s, under 50% of the nominal 2[2-6]\.[0-9]/s$`).MatchString(st.Degraded) {
			t.Errorf("Degraded = %q, want the frame rate under the nominal 24/s", st.Degraded)
		}
		if m := gather(t, reg, "cam-slow"); m["matthan_ingest_state/degraded"] != 1 || m["matthan_ingest_state/online"] != 0 {
			t.Errorf("state gauge while degraded: %v", m)
		}
		if err := cam.Resume(wildfireName); err != nil {
			t.Fatal(err)
		}
		resumed := time.Now()
		waitFor(t, 9*time.Second, "online again", func() bool { return src.Status().State == ingest.StateOnline })
		t.Logf("online %v after the camera resumed", time.Since(resumed).Round(time.Millisecond))
		if st := src.Status(); st.Degraded != "" || st.Reconnects != 0 {
			t.Errorf("after recovery: %+v, want no reason and the same connection", st)
		}
		for _, want := range []string{"camera degraded", "camera no longer degraded"} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("logs lack %q:\n%s", want, logs.String())
			}
		}
	})

	t.Run("packet loss", func(t *testing.T) {
		t.Parallel()
		cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, wildfire)}}
		startCamera(t, cam)
		var lossy atomic.Bool
		var n atomic.Int64
		proxy := &rtspProxy{Target: cam.Addr(), Drop: func(channel byte) bool {
			// One RTP packet in 10 (channel 0 is RTP, 1 RTCP).
			return channel == 0 && lossy.Load() && n.Add(1)%10 == 0
		}}
		addr := startProxy(t, proxy)
		var got collector
		src := &ingest.Source{CameraID: "cam-lossy", URL: "rtsp://" + addr + "/" + wildfireName, OnAccessUnit: got.add}
		runSource(t, src)
		waitFor(t, 5*time.Second, "frames", func() bool { return got.len() > 0 })
		lossy.Store(true)
		start := time.Now()
		waitFor(t, 8*time.Second, "degraded", func() bool { return src.Status().State == ingest.StateDegraded })
		st := src.Status()
		t.Logf("degraded %v after the loss began: %s; FPS %.1f, loss %.3f", time.Since(start).Round(time.Millisecond), st.Degraded, st.FPS, st.PacketLoss)
		if !strings.Contains(st.Degraded, "RTP packets lost") {
			t.Errorf("Degraded = %q, want the packet loss", st.Degraded)
		}
		time.Sleep(7*time.Second - time.Since(start)) // the loss fills the window
		if st := src.Status(); st.PacketLoss < 0.085 || st.PacketLoss > 0.115 || st.State != ingest.StateDegraded {
			t.Errorf("PacketLoss = %.3f in state %v, want ≈0.10, degraded", st.PacketLoss, st.State)
		}
		lossy.Store(false)
		// The loss leaves the 5 s window, then 3 s of good stream.
		waitFor(t, 12*time.Second, "online again", func() bool { return src.Status().State == ingest.StateOnline })
		if st := src.Status(); st.Reconnects != 0 {
			t.Errorf("%d reconnections", st.Reconnects)
		}
	})
}

// TestSourceTwoStreams runs the main and the sub stream of one camera at
// once, with one Metrics: each keeps its own counters, state and logs.
func TestSourceTwoStreams(t *testing.T) {
	t.Parallel()
	cam := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, intersection), clip(t, wildfire)}}
	startCamera(t, cam)
	reg := prometheus.NewRegistry()
	metrics, err := ingest.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var main, sub collector
	mainSrc := &ingest.Source{CameraID: "gate-1", URL: "rtsp://" + cam.Addr() + "/" + camsim.StreamName(intersection),
		OnAccessUnit: main.add, Logger: log, Metrics: metrics}
	subSrc := &ingest.Source{CameraID: "gate-1", Stream: ingest.StreamSub, URL: "rtsp://" + cam.Addr() + "/" + wildfireName,
		OnAccessUnit: sub.add, Logger: log, Metrics: metrics}
	stopMain := runSource(t, mainSrc)
	stopSub := runSource(t, subSrc)
	waitFor(t, 8*time.Second, "frames on both", func() bool { return main.len() > 0 && sub.len() > 0 })
	time.Sleep(2 * time.Second)
	stopSub()
	time.Sleep(500 * time.Millisecond)
	mainSt := mainSrc.Status()

	mm := gatherStream(t, reg, "gate-1", ingest.StreamMain)
	ms := gatherStream(t, reg, "gate-1", ingest.StreamSub)
	if mm["matthan_ingest_access_units_total"] != float64(main.len()) || ms["matthan_ingest_access_units_total"] != float64(sub.len()) {
		t.Errorf("access units: main %v sub %v, want %d and %d", mm["matthan_ingest_access_units_total"],
			ms["matthan_ingest_access_units_total"], main.len(), sub.len())
	}
	if mm["matthan_ingest_state/online"] != 1 || ms["matthan_ingest_state/offline"] != 1 || ms["matthan_ingest_state/online"] != 0 {
		t.Errorf("state gauges with the sub stream stopped: main %v, sub %v", mm, ms)
	}
	if mainSt.State != ingest.StateOnline || mainSt.FPS < 25 || mainSt.FPS > 35 {
		t.Errorf("main stream status %+v, want online at 30 fps", mainSt)
	}
	stopMain()
	for _, want := range []string{"camera=gate-1 stream=main", "camera=gate-1 stream=sub"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}
