package health_test

import (
	"errors"
	"github.com/matthan/matthan/deploy/testenv"
	"image"
	"io"
	"testing"
	"time"

	"go.uber.org/goleak"
	"gocv.io/x/gocv"

	"github.com/matthan/matthan/analyzer/health"
	"github.com/matthan/matthan/ingest/decode"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Clips of the sample footage (see shared/assets/video/MANIFEST.md).
const (
	clipIntersection = "traffic_intersection_signals_cctv_day.mp4"       // 640x480, OSD clock
	clipOverhead     = "traffic_road_overhead_both_directions_dusk.mp4"  // dusk, busy, the flattest picture
	clipResidential  = "traffic_residential_street_cctv_parked_cars.mp4" // long quiet stretches
	clipPlaza        = "pedestrians_plaza_elevated_day.mp4"              // 960x540
	clipTram         = "pedestrians_tram_square_elevated_day.mp4"        // crowded
	clipFire         = "fire_smoke_model_house_garden_day.mp4"           // 426x240, smoke
	clipWildfire     = "wildfire_smoke_hillside_dusk.mp4"                // MPEG-4 Part 2, ±2 px jitter
)

// normalClips are the clips of cameras in good order.
var normalClips = []string{clipIntersection, clipOverhead, clipResidential, clipPlaza, clipTram, clipFire, clipWildfire}

// clip returns the path of a sample clip (see deploy/testenv).
func clip(t testing.TB, name string) string { return testenv.Clip(t, name) }

// epoch is the capture time of the first frame the tests play.
var epoch = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// camera plays a clip in a loop as a camera would: frames with capture
// times that keep increasing across loops, sampled every interval of
// capture time as the analysis pipeline samples them.
type camera struct {
	tb       testing.TB
	path     string
	interval time.Duration
	v        *decode.Video
	f        decode.Frame
	offset   time.Duration // capture time of this loop's PTS 0, since epoch
	last     time.Duration // last PTS of this loop
	next     time.Duration // capture time of the next sample, since epoch
}

// newCamera opens the clip; Close it when done.
func newCamera(tb testing.TB, name string, interval time.Duration) *camera {
	tb.Helper()
	c := &camera{tb: tb, path: clip(tb, name), interval: interval}
	c.open()
	tb.Cleanup(c.close)
	return c
}

func (c *camera) open() {
	v, err := decode.OpenVideo(c.path)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.v = v
}

func (c *camera) close() {
	if c.v != nil {
		c.v.Close()
		c.v = nil
	}
}

// sample returns the next sampled frame, with its capture time since epoch.
// The frame is reused by the next call.
func (c *camera) sample() (*decode.Frame, time.Duration) {
	for {
		err := c.v.Next(&c.f)
		if errors.Is(err, io.EOF) {
			// Loop: the file starts again one frame after its last.
			c.offset += c.last + 40*time.Millisecond
			c.close()
			c.open()
			continue
		}
		if err != nil {
			c.tb.Fatal(err)
		}
		c.last = c.f.PTS
		at := c.offset + c.f.PTS
		if at < c.next {
			continue
		}
		c.next = at + c.interval
		c.f.Capture = epoch.Add(at)
		return &c.f, at
	}
}

// Faults applied to frames, as a camera would suffer them.

// fault changes a frame; it may return f itself or a new frame.
type fault func(f *decode.Frame) *decode.Frame

// repeated returns a fault that shows the first frame it is given forever
// (with each new frame's capture time).
func repeated() fault {
	var still *decode.Frame
	return func(f *decode.Frame) *decode.Frame {
		if still == nil {
			c := *f
			c.Pix = append([]byte(nil), f.Pix...)
			still = &c
		}
		c := *still
		c.PTS, c.Capture = f.PTS, f.Capture
		return &c
	}
}

// black turns the picture black.
func black(f *decode.Frame) *decode.Frame {
	clear(f.Pix)
	return f
}

// hand simulates a hand held over the lens: a dark picture with no
// detail, a little of the scene's light leaking through (the picture
// shrunk 24 times and enlarged again).
func hand(f *decode.Frame) *decode.Frame {
	m, err := gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8UC3, f.Pix[:f.Height*f.Stride])
	if err != nil {
		panic(err)
	}
	defer m.Close()
	small, out := gocv.NewMat(), gocv.NewMat()
	defer small.Close()
	defer out.Close()
	gocv.Resize(m, &small, image.Pt(max(1, f.Width/24), max(1, f.Height/24)), 0, 0, gocv.InterpolationArea)
	gocv.Resize(small, &out, image.Pt(f.Width, f.Height), 0, 0, gocv.InterpolationLinear)
	b, err := out.DataPtrUint8()
	if err != nil {
		panic(err)
	}
	for i, v := range b {
		f.Pix[i] = byte(4 + int(v)/12)
	}
	return f
}

// defocus blurs the picture as a lens turned out of focus (a Gaussian of
// sigma pixels at 640 px wide).
func defocus(sigma float64) fault {
	return func(f *decode.Frame) *decode.Frame {
		return blurred(f, sigma*float64(f.Width)/640)
	}
}

// blurred blurs f in place with a Gaussian of sigma pixels.
func blurred(f *decode.Frame, sigma float64) *decode.Frame {
	m, err := gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8UC3, f.Pix[:f.Height*f.Stride])
	if err != nil {
		panic(err)
	}
	defer m.Close()
	out := gocv.NewMat()
	defer out.Close()
	gocv.GaussianBlur(m, &out, image.Pt(0, 0), sigma, sigma, gocv.BorderReplicate)
	b, err := out.DataPtrUint8()
	if err != nil {
		panic(err)
	}
	copy(f.Pix, b)
	return f
}

// knocked shifts the picture by fx of its width and fy of its height, as a
// camera knocked on its mount; the uncovered border repeats the edge.
func knocked(fx, fy float64) fault {
	return func(f *decode.Frame) *decode.Frame {
		dx, dy := int(fx*float64(f.Width)), int(fy*float64(f.Height))
		out := make([]byte, len(f.Pix))
		row := 3 * f.Width
		for y := range f.Height {
			sy := min(max(y+dy, 0), f.Height-1)
			src := f.Pix[sy*f.Stride : sy*f.Stride+row]
			dst := out[y*f.Stride : y*f.Stride+row]
			for x := range f.Width {
				sx := min(max(x+dx, 0), f.Width-1)
				copy(dst[3*x:3*x+3], src[3*sx:3*sx+3])
			}
		}
		g := *f
		g.Pix = out
		return &g
	}
}

// recorder collects a Monitor's changes.
type recorder struct {
	changes []health.Change
}

func (r *recorder) add(c health.Change) { r.changes = append(r.changes, c) }
