package ingest_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Clips of the sample footage the tests use.
const (
	intersection = "traffic_intersection_signals_cctv_day.mp4" // H.264, 30 fps, no B-frames, 4.3 s GOP
	wildfire     = "wildfire_smoke_hillside_dusk.h264.mp4"     // H.264, 24 fps, B-frames, 1 s GOP
	wildfireName = "wildfire_smoke_hillside_dusk"
)

// clip returns the path of a sample clip: in $MATTHAN_VIDEO_DIR, else in
// .deps/video of the module root.
func clip(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("MATTHAN_VIDEO_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, ".deps", "video")
				break
			}
			if filepath.Dir(d) == d {
				t.Fatalf("no go.mod above %s", wd)
			}
		}
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample footage missing (%v): run make deps", err)
	}
	return p
}

// freeAddr returns a loopback TCP address nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// freeUDPPair returns a loopback address with a free even port whose next
// port is free too, for RTP and RTCP.
func freeUDPPair(t testing.TB) string {
	t.Helper()
	for range 50 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		a.Close()
		if port%2 != 0 || port > 65000 {
			continue
		}
		b, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", itoa(port+1)))
		if err != nil {
			continue
		}
		b.Close()
		return net.JoinHostPort("127.0.0.1", itoa(port))
	}
	t.Fatal("no free UDP port pair")
	return ""
}

func itoa(i int) string {
	var b [8]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

// startCamera runs srv until stop is called or the test ends, and waits
// until it serves. stop waits for Run to return.
func startCamera(t testing.TB, srv *camsim.Server) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("camsim Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-srv.Ready():
	case err := <-errc:
		errc <- err
		t.Fatalf("camsim did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("camsim not ready after 10 s")
	}
	return stop
}

// received is an access unit with its arrival time.
type received struct {
	au      ingest.AccessUnit
	arrival time.Time
}

// collector gathers the access units of a Source.
type collector struct {
	mu    sync.Mutex
	units []received
}

// add is a Source's OnAccessUnit.
func (c *collector) add(au ingest.AccessUnit) {
	now := time.Now()
	c.mu.Lock()
	c.units = append(c.units, received{au, now})
	c.mu.Unlock()
}

// snapshot returns the units so far.
func (c *collector) snapshot() []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]received(nil), c.units...)
}

// len returns how many units arrived so far.
func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.units)
}

// runSource runs s until stop is called or the test ends; stop waits for
// Run to return and checks that it returned nil.
func runSource(t testing.TB, s *ingest.Source) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("Source.Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Source.Run did not return 5 s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond every 20 ms until it holds or within passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logBuffer is a goroutine-safe buffer for a slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written.
func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
