package health_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer/health"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/ingest/decode"
)

// TestOverRTSP is issue 3's Done-when over loopback RTSP: camsim serves a
// real clip, ingest.Source receives it, decode.Decoder decodes it and a
// Monitor watches it at the pipeline's 2 frames a second. Freeze must read
// as frozen and Black as covered within 10 s, and Normal must clear them.
func TestOverRTSP(t *testing.T) {
	t.Parallel()
	srv := &camsim.Server{Listen: "127.0.0.1:0", Files: []string{clip(t, clipIntersection)}}
	changes := make(chan health.Change, 32)
	mon := &health.Monitor{Camera: "cam", OnChange: func(c health.Change) {
		select {
		case changes <- c:
		default:
			t.Errorf("change %+v not taken", c)
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		mon.Close() // after the goroutine that calls Observe has ended
	}()
	wg.Go(func() {
		if err := srv.Run(ctx); err != nil {
			t.Errorf("camsim: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("camsim not ready after 10 s")
	}
	stream := camsim.StreamName(clipIntersection)

	// The analysis side: a bounded queue, a decoder, a 2 fps sampler.
	units := make(chan ingest.AccessUnit, 256)
	src := &ingest.Source{CameraID: "cam", URL: srv.URLs()[0], OnAccessUnit: func(au ingest.AccessUnit) {
		select {
		case units <- au:
		default: // a slow test machine: drop, as the pipeline does
		}
	}}
	wg.Go(func() {
		if err := src.Run(ctx); err != nil {
			t.Errorf("source: %v", err)
		}
	})
	wg.Go(func() { analyse(ctx, t, units, mon) })

	waitChange := func(what string, want health.Condition, active bool, since time.Time) time.Duration {
		t.Helper()
		select {
		case c := <-changes:
			if c.Condition != want || c.Active != active {
				t.Fatalf("%s: change %s active=%v (%s), want %s active=%v", what, c.Condition, c.Active, c.Detail, want, active)
			}
			d := time.Since(since)
			t.Logf("%s: %s active=%v after %v (%s)", what, c.Condition, c.Active, d.Round(10*time.Millisecond), c.Detail)
			return d
		case <-time.After(detectWithin):
			t.Fatalf("%s: no %s active=%v within %v; status %+v", what, want, active, detectWithin, mon.Status())
		}
		return 0
	}
	control := func(name string, f func(string) error) time.Time {
		t.Helper()
		now := time.Now()
		if err := f(stream); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return now
	}

	// A normal start: samples come, nothing is wrong.
	deadline := time.Now().Add(15 * time.Second)
	for mon.Status().Samples < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("no samples: source %+v, monitor %+v", src.Status(), mon.Status())
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case c := <-changes:
		t.Fatalf("change on a normal stream: %+v", c)
	default:
	}

	at := control("Freeze", srv.Freeze)
	waitChange("Freeze", health.Frozen, true, at)
	at = control("Normal", srv.Normal)
	waitChange("Normal after Freeze", health.Frozen, false, at)
	at = control("Black", srv.Black)
	waitChange("Black", health.Covered, true, at)
	at = control("Normal", srv.Normal)
	waitChange("Normal after Black", health.Covered, false, at)
	if st := src.Status(); st.State != ingest.StateOnline {
		t.Errorf("source state %v after the faults, want online", st.State)
	}
}

// analyse decodes the access units and gives the Monitor two frames per
// second of capture time, as analyzer.Pipeline does.
func analyse(ctx context.Context, t *testing.T, units <-chan ingest.AccessUnit, mon *health.Monitor) {
	var (
		dec    *decode.Decoder
		next   time.Time
		f      decode.Frame
		errs   int
		errMsg string
	)
	defer func() {
		if dec != nil {
			t.Logf("decoded %d access units, %d decode errors (last: %s)", dec.Stats().AccessUnits, errs, errMsg)
			dec.Close()
		}
	}()
	for {
		var au ingest.AccessUnit
		select {
		case <-ctx.Done():
			return
		case au = <-units:
		}
		if dec == nil {
			var err error
			if dec, err = decode.NewDecoder(au.Params.Codec); err != nil {
				t.Error(err)
				return
			}
		}
		ready, err := dec.Decode(au)
		if err != nil {
			if !errors.Is(err, decode.ErrDecode) {
				t.Error(err)
			}
			errs, errMsg = errs+1, err.Error()
		}
		if !ready {
			continue
		}
		if _, capture := dec.PictureTime(); capture.Before(next) {
			continue
		}
		if err := dec.Convert(&f, 0, 0); err != nil {
			t.Error(err)
			continue
		}
		next = f.Capture.Add(health.DefaultInterval)
		if err := mon.Observe(&f); err != nil {
			t.Error(err)
		}
	}
}
