package record

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/matthan/matthan/ingest"
)

// TestRecorderTenMinutes records ten minutes of capture time with the
// default 60 s segments and 1 s parts, looping a clip with continuous
// timestamps as camsim does, faster than real time (issue 3: consecutive
// segments join without overlap or a hole larger than one frame, checked
// with ffprobe packet timestamps; every segment's sha256 matches the index).
func TestRecorderTenMinutes(t *testing.T) {
	const run = 10 * time.Minute
	tests := []struct {
		name  string
		clip  string
		byDTS bool // Capture follows DTS (arrival order) instead of PTS
	}{
		{"H.264 30 fps no B-frames", clipIntersection, true},
		{"H.264 23.976 fps B-frames", clipOverhead, false}, // camsim's sender reports follow PTS
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := loadClip(t, tc.clip)
			root := t.TempDir()
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			r := &Recorder{Root: root, CameraID: "cam", QueueLength: 2000, Metrics: m} // default segment and part
			x := start(r)
			began := time.Now()

			// Loop k is offset by k clip lengths, so PTS, DTS and Capture run
			// on one frame after the last frame of the loop before.
			var (
				pushed   int
				shown    []time.Time // presentation time of every pushed frame, relative to the first keyframe's Capture
				keys     []time.Time // Capture of every pushed keyframe
				first    ingest.AccessUnit
				longest  time.Duration // longest keyframe interval
				shownEnd time.Time     // when the last frame pushed stops being shown
			)
		feed:
			for loop := 0; ; loop++ {
				offset := time.Duration(loop) * f.duration
				for i := range f.packets {
					au := f.accessUnit(i, offset, tc.byDTS)
					if au.Capture.Sub(base) >= run {
						break feed
					}
					if pushed == 0 {
						first = au
					}
					pushPaced(r, au)
					pushed++
					at := first.Capture.Add(au.PTS - first.PTS)
					shown = append(shown, at)
					shownEnd = maxTime(shownEnd, at.Add(f.period))
					if au.Keyframe {
						if len(keys) > 0 {
							longest = max(longest, au.Capture.Sub(keys[len(keys)-1]))
						}
						keys = append(keys, au.Capture)
					}
				}
			}
			if err := x.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			fed := time.Since(began)
			slices.SortFunc(shown, time.Time.Compare)

			// Where the segments should start: the first keyframe, then the
			// first keyframe at least 60 s of capture time after the last start.
			wantStarts := []time.Time{keys[0]}
			for _, k := range keys {
				if k.Sub(wantStarts[len(wantStarts)-1]) >= 60*time.Second {
					wantStarts = append(wantStarts, k)
				}
			}

			segs, err := ReadIndex(root, "cam")
			if err != nil {
				t.Fatal(err)
			}
			wantReasons := make([]string, len(wantStarts))
			for i := range wantReasons {
				wantReasons[i] = EndDuration
			}
			wantReasons[len(wantReasons)-1] = EndStop
			if got := reasons(segs); !slices.Equal(got, wantReasons) {
				t.Fatalf("segments ended %v, want %v (cuts at the first keyframe after 60 s)", got, wantReasons)
			}

			var (
				frames    int
				presented []time.Time // absolute presentation time of every packet in the segments
				prevEnd   time.Time   // presentation end of the segment before, from its packets
			)
			t.Logf("%-3s %-26s %-12s %6s %10s", "seg", "start", "duration", "frames", "join")
			for i, s := range segs {
				path := filepath.Join(root, "cam", s.Path)
				if want := wantStarts[i].Truncate(time.Millisecond); !s.Start.Equal(want) {
					t.Errorf("segment %d starts at %v, want the keyframe at %v", i, s.Start, want)
				}
				if sum, size := fileSHA256(t, path); sum != s.SHA256 || size != s.Size {
					t.Errorf("segment %d: index sha256 %s size %d, file has %s %d", i, s.SHA256, s.Size, sum, size)
				}
				// ffmpeg decodes the file while ffprobe reads it.
				var decoded bytes.Buffer
				ffmpeg := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-")
				ffmpeg.Stdout, ffmpeg.Stderr = &decoded, &decoded
				if err := ffmpeg.Start(); err != nil {
					t.Fatal(err)
				}
				p := probe(t, path)
				if err := ffmpeg.Wait(); err != nil || decoded.Len() > 0 {
					t.Errorf("segment %d: ffmpeg -v error: %v %q", i, err, decoded.String())
				}
				if p.stderr != "" {
					t.Errorf("segment %d: ffprobe -v error says %q", i, p.stderr)
				}
				if len(p.packets) == 0 || !p.packets[0].key || p.packets[0].dts != 0 {
					t.Fatalf("segment %d does not start with a keyframe at dts 0: %+v", i, p.packets[:min(1, len(p.packets))])
				}
				if p.frames != len(p.packets) || p.frames != s.Frames {
					t.Errorf("segment %d: ffprobe decoded %d frames of %d packets, index says %d", i, p.frames, len(p.packets), s.Frames)
				}
				for j := 1; j < len(p.packets); j++ {
					if p.packets[j].dts <= p.packets[j-1].dts {
						t.Fatalf("segment %d: dts not increasing at packet %d: %v after %v", i, j, p.packets[j].dts, p.packets[j-1].dts)
					}
				}
				firstPTS := p.packets[0].pts // the keyframe, shown at s.Start
				span := p.end() - firstPTS
				if d := absDur(span - s.Duration); d > 2*time.Millisecond {
					t.Errorf("segment %d: packets span %v, index duration %v", i, span, s.Duration)
				}
				if i+1 < len(segs) {
					if s.Duration < 60*time.Second || s.Duration >= 60*time.Second+longest {
						t.Errorf("segment %d lasts %v, want 60 s up to the next keyframe (at most %v more)", i, s.Duration, longest)
					}
					if !s.End.Equal(segs[i+1].Start) {
						t.Errorf("index: segment %d ends %v, the next starts %v", i, s.End, segs[i+1].Start)
					}
				}
				join := "-"
				if i > 0 {
					// Positive: a hole between the segments; negative: overlap.
					d := s.Start.Sub(prevEnd)
					join = d.String()
					if d < -2*time.Millisecond || d > f.period {
						t.Errorf("segment %d starts %v after the previous one's last frame ends: want no overlap and a hole under a frame (%v)", i, d, f.period)
					}
				}
				prevEnd = s.Start.Add(span)
				for _, k := range p.packets {
					presented = append(presented, s.Start.Add(k.pts-firstPTS))
				}
				frames += len(p.packets)
				t.Logf("%-3d %-26s %-12v %6d %10s", i, s.Start.Format("2006-01-02 15:04:05.000"), s.Duration, s.Frames, join)
			}
			if frames != pushed {
				t.Errorf("%d frames in the segments, %d pushed", frames, pushed)
			}
			if d := absDur(prevEnd.Sub(shownEnd)); d > 2*time.Millisecond {
				t.Errorf("the recording ends at %v, the last frame pushed stops being shown at %v", prevEnd, shownEnd)
			}
			// Every pushed frame is shown once, at its time: no frame lost,
			// repeated or moved across a join.
			slices.SortFunc(presented, time.Time.Compare)
			if len(presented) == len(shown) {
				for i := range shown {
					if d := absDur(presented[i].Sub(shown[i])); d > 2*time.Millisecond {
						t.Fatalf("frame %d in presentation order is shown at %v, want %v", i, presented[i], shown[i])
					}
				}
			}
			for _, c := range []struct {
				name string
				want float64
			}{
				{"segments_closed_total", float64(len(segs))},
				{"dropped_access_units_total", 0},
				{"gaps_total", 0},
			} {
				if got := counter(t, reg, c.name, "cam"); got != c.want {
					t.Errorf("metric %s = %v, want %v", c.name, got, c.want)
				}
			}
			if gaps, err := ReadGaps(root, "cam", time.Time{}, time.Time{}); err != nil || len(gaps) != 0 {
				t.Errorf("gap ledger %+v, %v; want no gap", gaps, err)
			}
			t.Logf("%d frames, %v of capture time, recorded in %v, checked in %v", pushed, shownEnd.Sub(first.Capture),
				fed.Round(time.Millisecond), (time.Since(began) - fed).Round(time.Millisecond))
		})
	}
}

// maxTime returns the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
