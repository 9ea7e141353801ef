package decode

import (
	"errors"
	"io"
	"testing"
	"time"
)

func TestVideoFrameCounts(t *testing.T) {
	// frames: ffprobe -threads 1 -count_frames -show_entries stream=nb_read_frames.
	// glitches: frames whose PTS does not increase, from ffprobe's
	// best_effort_timestamp (the plaza clip is muxed with bad timestamps on
	// its last two frames).
	for _, tc := range []struct {
		name          string
		codec         string
		frames        int
		width, height int
		glitches      int
	}{
		{clipWildfire, "mpeg4", 420, 400, 240, 0},
		{clipWildfire264, "h264", 420, 400, 240, 0},
		{clipIntersection, "h264", 909, 640, 480, 0},
		{clipOverhead, "h264", 480, 640, 360, 0},
		{clipResidential, "h264", 734, 640, 360, 0}, // VFR: 754 packets, 734 pictures
		{clipPlaza, "h264", 419, 960, 540, 2},
		{clipTram, "h264", 314, 640, 480, 0},
		{clipFire, "h264", 899, 426, 240, 0}, // with an audio track
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := OpenVideo(clip(t, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if v.Codec() != tc.codec || v.Width() != tc.width || v.Height() != tc.height {
				t.Errorf("codec %s %dx%d, want %s %dx%d", v.Codec(), v.Width(), v.Height(), tc.codec, tc.width, tc.height)
			}
			if v.FrameRate() <= 0 || v.Duration() <= 0 {
				t.Errorf("frame rate %v, duration %v", v.FrameRate(), v.Duration())
			}
			var f Frame
			glitches := 0
			last := time.Duration(-1)
			n := eachFrame(t, v, &f, func(n int) {
				if f.Width != tc.width || f.Height != tc.height || len(f.Pix) != 3*tc.width*tc.height {
					t.Fatalf("frame %d: %dx%d, %d bytes", n, f.Width, f.Height, len(f.Pix))
				}
				if f.PTS <= last {
					glitches++
					t.Logf("frame %d: PTS %v after %v", n, f.PTS, last)
				}
				last = f.PTS
				if n%100 == 0 {
					if m, varies := meanAndVaries(&f); m < 20 || m > 235 || !varies {
						t.Errorf("frame %d: mean %.1f, varies %v", n, m, varies)
					}
				}
			})
			if glitches != tc.glitches {
				t.Errorf("%d frames with a PTS not after the previous one, ffprobe has %d", glitches, tc.glitches)
			}
			if n != tc.frames {
				t.Errorf("%d frames, ffprobe counts %d", n, tc.frames)
			}
			if last > v.Duration() || last < v.Duration()-time.Second {
				t.Errorf("last PTS %v, duration %v", last, v.Duration())
			}
			if err := v.Next(&f); !errors.Is(err, io.EOF) {
				t.Errorf("Next after the end: %v", err)
			}
			if v.Errors() != 0 {
				t.Errorf("%d damaged frames", v.Errors())
			}
		})
	}
}

func TestVideoMatchesFFmpeg(t *testing.T) {
	path := clip(t, clipWildfire)
	v, err := OpenVideo(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var f Frame
	if err := v.Next(&f); err != nil {
		t.Fatal(err)
	}
	ref := ffmpegFirstFrame(t, path)
	if len(ref) != len(f.Pix) {
		t.Fatalf("ffmpeg frame %d bytes, ours %d", len(ref), len(f.Pix))
	}
	if mad := meanAbsDiff(ref, f.Pix); mad > 2 {
		t.Errorf("mean absolute difference to ffmpeg's frame %.2f, want <= 2", mad)
	}
}

// meanAbsDiff is the mean absolute difference of two equally long pictures.
func meanAbsDiff(a, b []byte) float64 {
	var diff int
	for j := range a {
		diff += max(int(a[j])-int(b[j]), int(b[j])-int(a[j]))
	}
	return float64(diff) / float64(len(a))
}

func TestOpenVideoErrors(t *testing.T) {
	v, err := OpenVideo(t.TempDir() + "/missing.mp4")
	if err == nil {
		v.Close()
		t.Fatal("opened a missing file")
	}
	v, err = OpenVideo(clip(t, clipTram))
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	v.Close()
	if err := v.Next(&Frame{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

// TestVideoContainers opens the containers and codecs matthan analyze
// takes (any FFmpeg reads; these are the ones cameras and archives give):
// the tram clip's first 48 frames encoded into each, read whole, the first
// picture as ffmpeg itself decodes it.
func TestVideoContainers(t *testing.T) {
	for _, tc := range []struct {
		name, codec string
		opts        []string
	}{
		{"tram.mkv", "hevc", []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:pools=1:frame-threads=1"}},
		{"tram.ts", "h264", []string{"-c:v", "libx264", "-preset", "ultrafast"}},
		{"tram.mjpeg.avi", "mjpeg", []string{"-c:v", "mjpeg", "-q:v", "3"}},
		{"tram.mpeg4.avi", "mpeg4", []string{"-c:v", "mpeg4", "-q:v", "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := encodeTram(t, tc.name, append([]string{"-frames:v", "48", "-vf", "scale=320:240"}, tc.opts...)...)
			v, err := OpenVideo(path)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if v.Codec() != tc.codec || v.Width() != 320 || v.Height() != 240 {
				t.Fatalf("codec %s %dx%d, want %s 320x240", v.Codec(), v.Width(), v.Height(), tc.codec)
			}
			var f Frame
			n := eachFrame(t, v, &f, func(n int) {
				if n == 0 {
					ref := ffmpegFirstFrame(t, path)
					if len(ref) != len(f.Pix) {
						t.Fatalf("ffmpeg's first frame has %d bytes, ours %d", len(ref), len(f.Pix))
					}
					if mad := meanAbsDiff(ref, f.Pix); mad > 2 {
						t.Errorf("first frame: mean absolute difference to ffmpeg's %.2f, want ≤ 2", mad)
					}
				}
			})
			if n != 48 || v.Errors() != 0 {
				t.Errorf("%d frames (%d damaged), want 48", n, v.Errors())
			}
		})
	}
}

// eachFrame reads v into f to its end, calling picture with each frame's
// index, and returns how many frames there were; a read error fails the
// test.
func eachFrame(t *testing.T, v *Video, f *Frame, picture func(n int)) int {
	t.Helper()
	for n := 0; ; n++ {
		err := v.Next(f)
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		picture(n)
	}
}
