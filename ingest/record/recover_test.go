package record

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecoverFile finalises segment files in the states a crash or a
// failed write leaves them: complete, cut inside a part, cut inside the
// init section, garbage.
func TestRecoverFile(t *testing.T) {
	f := loadClip(t, clipIntersection)
	src := t.TempDir()
	r := &Recorder{Root: src, CameraID: "cam", QueueLength: 200}
	x := start(r)
	for i := range 100 { // parts of 30, 30, 30, 10 frames
		pushPaced(r, f.accessUnit(i, 0, true))
	}
	if err := x.stop(t); err != nil {
		t.Fatal(err)
	}
	segs, err := ReadIndex(src, "cam")
	if err != nil || len(segs) != 1 {
		t.Fatalf("index %+v, %v", segs, err)
	}
	whole, err := os.ReadFile(filepath.Join(src, "cam", segs[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scanSegment(whole)
	if err != nil || sc.parts != 4 || sc.frames != 100 || sc.valid != len(whole) {
		t.Fatalf("scan of the complete file: %+v, %v", sc, err)
	}
	partial, _ := scanSegment(whole[:len(whole)-10]) // valid: where the fourth part begins
	tests := []struct {
		name   string
		data   []byte
		frames int // 0: the file is removed
		size   int
	}{
		{"complete", whole, 100, len(whole)},
		{"cut in the last part", whole[:len(whole)-10], 90, partial.valid},
		{"cut in a box header", whole[:partial.valid+5], 90, partial.valid},
		{"init only", whole[:firstPart(t, whole)], 0, 0},
		{"cut in the init section", whole[:100], 0, 0},
		{"garbage", []byte("not an mp4 file at all, just bytes"), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			camDir := filepath.Join(t.TempDir(), "cam")
			rel := "2025-03-14/09-26-53.mp4"
			name := filepath.Join(camDir, rel)
			os.MkdirAll(filepath.Dir(name), 0o755)
			if err := os.WriteFile(name, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			seg, ok, err := recoverFile(camDir, "cam", rel, base, EndCrash)
			if err != nil {
				t.Fatal(err)
			}
			if tc.frames == 0 {
				if _, serr := os.Stat(name); ok || !os.IsNotExist(serr) {
					t.Fatalf("ok %v, file %v: want a file without video removed", ok, serr)
				}
				return
			}
			if !ok || seg.Frames != tc.frames || seg.Size != int64(tc.size) || seg.EndReason != EndCrash {
				t.Fatalf("recovered %+v, want %d frames, %d bytes", seg, tc.frames, tc.size)
			}
			if sum, size := fileSHA256(t, name); sum != seg.SHA256 || size != seg.Size {
				t.Errorf("file sha256 %s size %d, record %s %d", sum, size, seg.SHA256, seg.Size)
			}
			if want := time.Duration(tc.frames) * f.period; absDur(seg.Duration-want) > time.Millisecond || !seg.Start.Equal(base) {
				t.Errorf("recovered %v from %v, want %v from %v", seg.Duration, seg.Start, want, base)
			}
			if p := probe(t, name); p.stderr != "" || p.frames != tc.frames {
				t.Errorf("ffprobe decoded %d frames, want %d; stderr %q", p.frames, tc.frames, p.stderr)
			}
		})
	}
}

// firstPart returns the offset of the first moof of a segment file.
func firstPart(t *testing.T, b []byte) int {
	t.Helper()
	for off := 0; off+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		if string(b[off+4:off+8]) == "moof" {
			return off
		}
		off += size
	}
	t.Fatal("no moof")
	return 0
}
