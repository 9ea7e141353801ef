package record

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/matthan/matthan/deploy/testenv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
)

// Clips of the test footage (see shared/assets/video/MANIFEST.md).
const (
	clipIntersection = "traffic_intersection_signals_cctv_day.mp4"      // H.264 Main, no B-frames, 909 frames, 30 fps, keyframe every 128
	clipOverhead     = "traffic_road_overhead_both_directions_dusk.mp4" // H.264 High, B-frames, 480 frames, 23.976 fps
)

// base is the capture time of the first frame fed to recorders in tests.
var base = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// clipPath returns the path of a test clip (see deploy/testenv).
func clipPath(tb testing.TB, name string) string { return testenv.Clip(tb, name) }

// footage is a clip read into memory.
type footage struct {
	params   *ingest.StreamParams
	packets  []decode.Packet
	period   time.Duration // frame period
	duration time.Duration // of the video stream, as ffprobe reports it
}

// h265Clip transcodes the first 6 s of the B-frame clip to H.265 (closed
// GOPs of 48 frames, 3 B-frames) in a temporary folder: the footage has no
// H.265 clip.
func h265Clip(tb testing.TB) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "overhead_h265.mp4")
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", clipPath(tb, clipOverhead), "-t", "6", "-an",
		"-c:v", "libx265", "-preset", "ultrafast",
		"-x265-params", "keyint=48:min-keyint=48:bframes=3:open-gop=0:log-level=error",
		"-tag:v", "hvc1", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg libx265: %v: %s", err, b)
	}
	return out
}

// loadClip reads every packet of a clip with the project's demuxer and asks
// ffprobe for the clip's duration.
func loadClip(tb testing.TB, name string) footage {
	tb.Helper()
	path := name
	if !filepath.IsAbs(name) {
		path = clipPath(tb, name)
	}
	d, err := decode.OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	f := footage{params: d.Params()}
	for {
		p, err := d.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		f.packets = append(f.packets, p)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=duration,nb_frames", "-of", "json", path).Output()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v", path, err)
	}
	var pr struct {
		Streams []struct {
			Duration string `json:"duration"`
			Frames   string `json:"nb_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &pr); err != nil || len(pr.Streams) != 1 {
		tb.Fatalf("ffprobe %s: %v (%s)", path, err, out)
	}
	f.duration = seconds(tb, pr.Streams[0].Duration)
	if n, _ := strconv.Atoi(pr.Streams[0].Frames); n != len(f.packets) {
		tb.Fatalf("%s: demuxer read %d packets, ffprobe counts %d", name, len(f.packets), n)
	}
	f.period = f.duration / time.Duration(len(f.packets))
	return f
}

// accessUnit turns packet i into what the RTSP source would push. Capture
// follows the presentation (RTP) time unless byDTS.
func (f footage) accessUnit(i int, offset time.Duration, byDTS bool) ingest.AccessUnit {
	p := f.packets[i]
	c := base.Add(offset + p.PTS)
	if byDTS {
		c = base.Add(offset + p.DTS)
	}
	return ingest.AccessUnit{Params: f.params, NALUs: p.NALUs, PTS: offset + p.PTS, Capture: c, Keyframe: p.Keyframe}
}

// running is a Recorder running in the background of a test.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

// start runs r until stop.
func start(r *Recorder) *running {
	ctx, cancel := context.WithCancel(context.Background())
	x := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { x.done <- r.Run(ctx) }()
	return x
}

// stop cancels the recorder and returns what Run returned.
func (x *running) stop(tb testing.TB) error {
	tb.Helper()
	x.cancel()
	select {
	case err := <-x.done:
		return err
	case <-time.After(20 * time.Second):
		tb.Fatal("Run did not return 20 s after cancel")
		return nil
	}
}

// pushPaced pushes aus as fast as the recorder takes them, without
// overflowing its queue.
func pushPaced(r *Recorder, aus ...ingest.AccessUnit) {
	r.setup()
	for _, au := range aus {
		for len(r.queue) == cap(r.queue) {
			time.Sleep(time.Millisecond)
		}
		r.Push(au)
	}
}

// probed is what ffprobe reads from a segment file.
type probed struct {
	packets []probedPacket
	frames  int // decoded
	width   int
	height  int
	stderr  string
}

type probedPacket struct {
	pts, dts, dur time.Duration
	key           bool
}

// end is the presentation end of the file: max of pts+duration.
func (p probed) end() time.Duration {
	var e time.Duration
	for _, k := range p.packets {
		e = max(e, k.pts+k.dur)
	}
	return e
}

// probe runs ffprobe on a file: its packets, and a decode of every frame.
// Whatever ffprobe prints at level error is returned in stderr.
func probe(tb testing.TB, path string) probed {
	tb.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time,dts_time,duration_time,flags:stream=nb_read_frames,width,height",
		"-of", "json", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v: %s", path, err, stderr.String())
	}
	var pr struct {
		Packets []struct {
			PTS   string `json:"pts_time"`
			DTS   string `json:"dts_time"`
			Dur   string `json:"duration_time"`
			Flags string `json:"flags"`
		} `json:"packets"`
		Streams []struct {
			Frames string `json:"nb_read_frames"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &pr); err != nil || len(pr.Streams) != 1 {
		tb.Fatalf("ffprobe %s: %v (%.300s)", path, err, out)
	}
	p := probed{stderr: stderr.String(), width: pr.Streams[0].Width, height: pr.Streams[0].Height}
	p.frames, _ = strconv.Atoi(pr.Streams[0].Frames)
	for _, k := range pr.Packets {
		p.packets = append(p.packets, probedPacket{
			pts: seconds(tb, k.PTS), dts: seconds(tb, k.DTS), dur: seconds(tb, k.Dur),
			key: len(k.Flags) > 0 && k.Flags[0] == 'K',
		})
	}
	return p
}

// seconds parses ffprobe's decimal seconds.
func seconds(tb testing.TB, s string) time.Duration {
	tb.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		tb.Fatalf("ffprobe time %q: %v", s, err)
	}
	return time.Duration(v * float64(time.Second))
}

// fileSHA256 returns the hex sha256 and size of a file.
func fileSHA256(tb testing.TB, path string) (string, int64) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), int64(len(b))
}

// counter returns the value of a record counter for camera in reg.
func counter(tb testing.TB, reg *prometheus.Registry, name, camera string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "matthan_record_"+name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "camera" && l.GetValue() == camera {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// absDur is |d|.
func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
