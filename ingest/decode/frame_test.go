package decode

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// modelSize is the letterboxed size of a w×h picture in a 416×416 model
// input, as models.InputSpec.Fit computes it.
func modelSize(w, h int) (int, int) {
	if w >= h {
		return 416, (h*416 + w/2) / w
	}
	return (w*416 + h/2) / h, 416
}

// shared returns a function giving the path of the test clip name.
func shared(name string) func(t *testing.T) string {
	return func(t *testing.T) string { return clip(t, name) }
}

// yuv422Clip encodes 40 frames of the tram clip as H.264 4:2:2 at 320x240.
func yuv422Clip(t *testing.T) string {
	return encodeTram(t, "tram.yuv422p.mp4", "-frames:v", "40", "-vf", "scale=320:240,format=yuv422p",
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "0")
}

// decodePictures decodes the first 40 access units of the clip at path,
// calling picture each time one gives a picture, and returns the decoder
// (closed when the test ends) and how many pictures there were.
func decodePictures(t *testing.T, path string, picture func(d *Decoder)) (*Decoder, int) {
	t.Helper()
	dm, pkts := readAll(t, path)
	d, err := NewDecoder(dm.Codec())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	n := 0
	for _, p := range pkts[:min(len(pkts), 40)] {
		ready, err := d.Decode(accessUnit(dm.Params(), p))
		if err != nil {
			t.Fatal(err)
		}
		if ready {
			picture(d)
			n++
		}
	}
	return d, n
}

// A frame converted straight to the model's size keeps its picture: its
// source size is the picture's, Full gives the picture converted at full
// size exactly as Convert(0, 0) does, once, and nothing after Release.
func TestConvertKeepFull(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		w, h int
	}{
		{clipIntersection, shared(clipIntersection), 640, 480},
		{clipOverhead, shared(clipOverhead), 640, 360}, // B-frames: pictures leave the decoder out of order
		{clipPlaza, shared(clipPlaza), 960, 540},
		{clipFire, shared(clipFire), 426, 240},
		{"yuv422p", yuv422Clip, 320, 240}, // not 4:2:0: scaled in one pass; smaller than the model: scaled up
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw, sh := modelSize(tc.w, tc.h)
			var small, want Frame
			defer small.Close()
			d, checked := decodePictures(t, tc.path(t), func(d *Decoder) {
				if err := d.ConvertKeep(&small, sw, sh); err != nil {
					t.Fatal(err)
				}
				if err := d.Convert(&want, 0, 0); err != nil {
					t.Fatal(err)
				}
				if small.Width != sw || small.Height != sh {
					t.Fatalf("scaled frame %dx%d, want %dx%d", small.Width, small.Height, sw, sh)
				}
				if w, h := small.SourceSize(); w != tc.w || h != tc.h {
					t.Fatalf("source size %dx%d, want %dx%d", w, h, tc.w, tc.h)
				}
				if w, h := want.SourceSize(); w != tc.w || h != tc.h {
					t.Fatalf("full frame's source size %dx%d, want its own %dx%d", w, h, tc.w, tc.h)
				}
				full, err := small.Full()
				if err != nil {
					t.Fatal(err)
				}
				if full.Width != tc.w || full.Height != tc.h || !bytes.Equal(full.Pix, want.Pix) {
					t.Fatalf("Full gives %dx%d, not the picture Convert(0, 0) gives", full.Width, full.Height)
				}
				if full.PTS != small.PTS || !full.Capture.Equal(small.Capture) {
					t.Errorf("Full's times %v %v, the frame's %v %v", full.PTS, full.Capture, small.PTS, small.Capture)
				}
				if again, _ := small.Full(); again != full {
					t.Error("a second Full converted again")
				}
				if own, _ := want.Full(); own != &want {
					t.Error("Full of a full-size frame is not the frame itself")
				}
			})
			if checked < 20 {
				t.Fatalf("only %d pictures", checked)
			}

			small.Release()
			if _, err := small.Full(); !errors.Is(err, ErrNoPicture) {
				t.Errorf("Full after Release: %v, want ErrNoPicture", err)
			}
			if err := d.Convert(&small, sw, sh); err != nil {
				t.Fatal(err)
			}
			if _, err := small.Full(); !errors.Is(err, ErrNoPicture) {
				t.Errorf("Full of a frame scaled by Convert: %v, want ErrNoPicture", err)
			}
			small.Close()
			if err := d.ConvertKeep(&small, sw, sh); err != nil {
				t.Fatalf("ConvertKeep after Close: %v", err)
			}
			if _, err := small.Full(); err != nil {
				t.Errorf("Full after Close and ConvertKeep: %v", err)
			}
		})
	}
}

// The files' frames are converted the same way: Video.ConvertKeep after
// Decode gives what Next gives, at the model's size with Full.
func TestVideoConvertKeep(t *testing.T) {
	next, err := OpenVideo(clip(t, clipWildfire)) // MPEG-4 Part 2
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	v, err := OpenVideo(clip(t, clipWildfire))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var want, small Frame
	defer small.Close()
	sw, sh := modelSize(v.Width(), v.Height())
	for i := range 30 {
		if err := next.Next(&want); err != nil {
			t.Fatal(err)
		}
		if err := v.Decode(); err != nil {
			t.Fatal(err)
		}
		if pts := v.PictureTime(); pts != want.PTS {
			t.Fatalf("frame %d: PictureTime %v, Next's PTS %v", i, pts, want.PTS)
		}
		if i%3 != 0 {
			continue // a sampler converts only the frames it keeps
		}
		if err := v.ConvertKeep(&small, sw, sh); err != nil {
			t.Fatal(err)
		}
		full, err := small.Full()
		if err != nil {
			t.Fatal(err)
		}
		if small.PTS != want.PTS || !bytes.Equal(full.Pix, want.Pix) {
			t.Fatalf("frame %d: ConvertKeep then Full differ from Next", i)
		}
	}
}

// residentBytes is the process's resident memory.
func residentBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	fields := strings.Fields(string(b))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

// Kept pictures go back to the decoder: thousands of pictures through a
// pool of four frames, three of them holding a picture at any time, each
// kept, converted at full size and put back, neither allocate Go memory nor
// grow the process (a picture not given back would cost 460 KB each) —
// whether kept converted (ConvertKeep) or converted later (Keep, Convert).
func TestKeptPicturesReleased(t *testing.T) {
	for _, later := range []bool{false, true} {
		t.Run(map[bool]string{false: "ConvertKeep", true: "Keep"}[later], func(t *testing.T) {
			keptPicturesReleased(t, later)
		})
	}
}

func keptPicturesReleased(t *testing.T, later bool) {
	dm, pkts := readAll(t, clip(t, clipIntersection))
	d, err := NewDecoder(dm.Codec())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pool := NewFramePool(4)
	defer pool.Close()
	var held [3]*Frame // in use, as by a detector and a queue
	n := 0             // pictures converted
	step := func() {
		j := n % len(pkts)
		if j == 0 && n > 0 {
			for ready, _ := d.Flush(); ready; ready, _ = d.Flush() {
			}
		}
		ready, err := d.Decode(accessUnit(dm.Params(), pkts[j]))
		if err != nil {
			t.Fatal(err)
		}
		if !ready {
			t.Fatalf("no picture for access unit %d", j) // the clip has no B-frames
		}
		k := n % len(held)
		if held[k] != nil {
			pool.Put(held[k])
		}
		f := pool.Get()
		keep := d.ConvertKeep
		if later {
			keep = d.Keep
		}
		if err := keep(f, 416, 312); err != nil {
			t.Fatal(err)
		}
		if err := f.Convert(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Full(); err != nil {
			t.Fatal(err)
		}
		held[k] = f
		n++
	}
	for range 2 * len(pkts) { // warm up: pools and buffers at their size
		step()
	}
	before := residentBytes(t)
	if allocs := testing.AllocsPerRun(3*len(pkts), step); allocs != 0 {
		t.Errorf("%.2f Go allocations per picture", allocs)
	}
	if grown := residentBytes(t) - before; grown > 16<<20 {
		t.Errorf("resident memory grew by %d MB over %d pictures", grown>>20, 3*len(pkts))
	}
}

// Keep leaves the conversion to Frame.Convert, which gives exactly what
// ConvertKeep gives, of the picture ready at Keep even when the decoder has
// moved on (as a pipeline's detector converts while its decoder decodes the
// next pictures), at the model's size or the picture's own, once; Full
// works as after ConvertKeep; a picture released before Convert is an
// ErrNoPicture.
func TestKeepConvert(t *testing.T) {
	for _, tc := range []struct {
		name string
		path func(t *testing.T) string
		w, h int
	}{
		{clipIntersection, shared(clipIntersection), 640, 480},
		{clipOverhead, shared(clipOverhead), 640, 360}, // B-frames
		{clipFire, shared(clipFire), 426, 240},         // converted at its own size, as the pipelines do
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, h := modelSize(tc.w, tc.h)
			if tc.name == clipFire {
				w, h = 0, 0
			}
			var kept, want, full Frame
			defer kept.Close()
			defer want.Close()
			checked := 0
			_, n := decodePictures(t, tc.path(t), func(d *Decoder) {
				if checked > 0 {
					// The picture kept at the previous one, converted now.
					if err := kept.Convert(); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(kept.Pix, want.Pix) || kept.Width != want.Width || kept.PTS != want.PTS {
						t.Fatalf("picture %d: Keep then Convert differs from ConvertKeep", checked)
					}
					fk, err := kept.Full()
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(fk.Pix, full.Pix) {
						t.Fatalf("picture %d: Full after Keep differs from the full-size conversion", checked)
					}
					before := append([]byte(nil), kept.Pix...)
					if err := kept.Convert(); err != nil || !bytes.Equal(kept.Pix, before) {
						t.Fatalf("a second Convert: %v", err)
					}
				}
				if err := d.Keep(&kept, w, h); err != nil {
					t.Fatal(err)
				}
				if err := d.ConvertKeep(&want, w, h); err != nil {
					t.Fatal(err)
				}
				if err := d.Convert(&full, 0, 0); err != nil {
					t.Fatal(err)
				}
				if sw, sh := kept.SourceSize(); sw != tc.w || sh != tc.h {
					t.Fatalf("source size %dx%d, want %dx%d", sw, sh, tc.w, tc.h)
				}
				checked++
			})
			if n < 20 {
				t.Fatalf("only %d pictures", n)
			}
			kept.Release()
			if err := kept.Convert(); !errors.Is(err, ErrNoPicture) {
				t.Errorf("Convert after Release: %v, want ErrNoPicture", err)
			}
			if err := (&Decoder{}).Keep(&kept, w, h); !errors.Is(err, ErrClosed) {
				t.Errorf("Keep on a closed decoder: %v, want ErrClosed", err)
			}
		})
	}
}
