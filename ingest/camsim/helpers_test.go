package camsim_test

import (
	"context"
	"fmt"
	"github.com/matthan/matthan/deploy/testenv"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/matthan/matthan/ingest/camsim"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Clips of the sample footage the tests use.
const (
	intersection = "traffic_intersection_signals_cctv_day.mp4" // H.264, 30 fps, no B-frames
	wildfire     = "wildfire_smoke_hillside_dusk.h264.mp4"     // H.264, 24 fps, B-frames, 1 s GOP
	wildfireMP4V = "wildfire_smoke_hillside_dusk.mp4"          // MPEG-4 Part 2
)

// clip returns the path of a sample clip (see deploy/testenv).
func clip(t testing.TB, name string) string { return testenv.Clip(t, name) }

// start runs srv until the test ends and waits until it serves.
func start(t testing.TB, srv *camsim.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("camsim Run: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case err := <-errc:
		errc <- err
		t.Fatalf("camsim did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("camsim not ready after 10 s")
	}
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
		pair := []string{net.JoinHostPort("127.0.0.1", itoa(port)), net.JoinHostPort("127.0.0.1", itoa(port+1))}
		ok := true
		for _, p := range pair {
			c, err := net.ListenPacket("udp", p)
			if err != nil {
				ok = false
				break
			}
			c.Close()
		}
		if ok {
			return pair[0]
		}
	}
	t.Fatal("no free UDP port pair")
	return ""
}

func itoa(i int) string {
	return fmt.Sprint(i)
}
