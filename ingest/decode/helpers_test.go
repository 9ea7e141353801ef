package decode

import (
	"errors"
	"github.com/matthan/matthan/deploy/testenv"
	"io"
	"testing"
)

// Clips of the test footage (see shared/assets/video/MANIFEST.md).
const (
	clipIntersection = "traffic_intersection_signals_cctv_day.mp4"      // H.264 Main, 640x480, 909 frames
	clipOverhead     = "traffic_road_overhead_both_directions_dusk.mp4" // H.264 High, B-frames, 480 frames
	clipResidential  = "traffic_residential_street_cctv_parked_cars.mp4"
	clipPlaza        = "pedestrians_plaza_elevated_day.mp4"
	clipTram         = "pedestrians_tram_square_elevated_day.mp4"
	clipFire         = "fire_smoke_model_house_garden_day.mp4" // has an audio track
	clipWildfire     = "wildfire_smoke_hillside_dusk.mp4"      // MPEG-4 Part 2
	clipWildfire264  = "wildfire_smoke_hillside_dusk.h264.mp4"
)

// clip returns the path of a test clip (see deploy/testenv).
func clip(tb testing.TB, name string) string { return testenv.Clip(tb, name) }

// readAll returns every packet of a file.
func readAll(tb testing.TB, path string) (*Demuxer, []Packet) {
	tb.Helper()
	d, err := OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	var pkts []Packet
	for {
		p, err := d.Read()
		if errors.Is(err, io.EOF) {
			return d, pkts
		}
		if err != nil {
			tb.Fatal(err)
		}
		pkts = append(pkts, p)
	}
}
