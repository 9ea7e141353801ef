package record

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// openFile names the segment being written, in <Root>/<CameraID>: it is
// written before the segment's first part, so recovery after a crash knows
// the segment's exact start (its file name has whole seconds only).
const openFile = "open.json"

// openJSON is the content of openFile.
type openJSON struct {
	Path  string `json:"path"`
	Start string `json:"start"`
}

// writeOpen records that the segment rel, starting at capture time start,
// is being written.
func writeOpen(camDir, rel string, start time.Time) error {
	b, err := json.Marshal(openJSON{Path: rel, Start: start.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(camDir, openFile), append(b, '\n'))
}

// readOpen returns the segment openFile names, if any.
func readOpen(camDir string) (rel string, start time.Time, ok bool) {
	b, err := os.ReadFile(filepath.Join(camDir, openFile))
	if err != nil {
		return "", time.Time{}, false
	}
	var o openJSON
	if json.Unmarshal(b, &o) != nil {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, o.Start)
	if err != nil {
		return "", time.Time{}, false
	}
	return o.Path, t.UTC(), true
}

// scanned is what scanSegment finds in a segment file.
type scanned struct {
	valid  int   // bytes up to the end of the last complete part (or the init section)
	parts  int   // complete moof+mdat parts
	frames int   // samples in them
	endPTS int64 // max over samples of PTS+duration, relative to the first sample's PTS, in ticks
}

// scanSegment walks the top-level boxes of a segment file: the init section
// (ftyp+moov), then moof+mdat parts. It stops at the first box cut short or
// part that does not parse, which is where a crash or a failed write left
// the file.
func scanSegment(data []byte) (scanned, error) {
	var (
		sc       scanned
		off      int
		sawMoov  bool
		moofAt   = -1
		firstPTS int64
	)
	for len(data)-off >= 8 {
		size := int(binary.BigEndian.Uint32(data[off:]))
		typ := string(data[off+4 : off+8])
		if size == 1 && len(data)-off >= 16 { // 64-bit size
			size = int(binary.BigEndian.Uint64(data[off+8:]))
		}
		if size < 8 || size > len(data)-off {
			break // cut short (size 0, "to the end of the file", is never written)
		}
		end := off + size
		switch typ {
		case "moov":
			sawMoov = true
			sc.valid = end
		case "moof":
			moofAt = off
		case "mdat":
			if !sawMoov || moofAt < 0 {
				return sc, errors.New("media data before the init section or without a moof")
			}
			var ps fmp4.Parts
			if err := ps.Unmarshal(data[moofAt:end]); err != nil || len(ps) != 1 || len(ps[0].Tracks) != 1 {
				return sc, nil // a part that does not parse ends what can be kept
			}
			tr := ps[0].Tracks[0]
			dts := int64(tr.BaseTime)
			for _, s := range tr.Samples {
				pts := dts + int64(s.PTSOffset)
				if sc.frames == 0 {
					firstPTS = pts
				}
				sc.endPTS = max(sc.endPTS, pts+int64(s.Duration)-firstPTS)
				dts += int64(s.Duration)
				sc.frames++
			}
			sc.parts++
			sc.valid = end
			moofAt = -1
		}
		off = end
	}
	if !sawMoov {
		return sc, errors.New("no complete init section (ftyp+moov)")
	}
	return sc, nil
}

// recoverFile finalises a segment file that was never closed: it cuts off
// a torn last part, hashes what remains and returns its index record with
// the given end reason. A file without one complete part holds no video and
// is removed; ok is then false.
func recoverFile(camDir, camera, rel string, start time.Time, reason string) (seg Segment, ok bool, err error) {
	name := filepath.Join(camDir, filepath.FromSlash(rel))
	data, err := os.ReadFile(name)
	if err != nil {
		return Segment{}, false, fmt.Errorf("recover %s: %w", rel, err)
	}
	sc, serr := scanSegment(data)
	if serr != nil || sc.parts == 0 {
		if err := os.Remove(name); err != nil {
			return Segment{}, false, fmt.Errorf("recover %s: remove file without video: %w", rel, err)
		}
		return Segment{}, false, nil
	}
	if sc.valid < len(data) {
		if err := os.Truncate(name, int64(sc.valid)); err != nil {
			return Segment{}, false, fmt.Errorf("recover %s: cut torn part: %w", rel, err)
		}
		data = data[:sc.valid]
	}
	sum := sha256.Sum256(data)
	seg = Segment{
		Camera:    camera,
		Path:      rel,
		Start:     start.UTC().Truncate(time.Millisecond),
		End:       start.UTC().Add(fromTicks(sc.endPTS)).Truncate(time.Millisecond),
		Size:      int64(len(data)),
		SHA256:    hex.EncodeToString(sum[:]),
		Frames:    sc.frames,
		EndReason: reason,
	}
	seg.Duration = seg.End.Sub(seg.Start)
	return seg, true, nil
}

// orphans lists the segment files under camDir that the index does not
// name, with their start: from openFile when it names the file, else from
// the file name (whole seconds). Files a retention sweep was deleting when
// it stopped (in its log) are left out and removed.
func orphans(camDir string, indexed []Segment) ([]Segment, error) {
	files, err := filepath.Glob(filepath.Join(camDir, "*", "*.mp4"))
	if err != nil {
		return nil, err
	}
	known := make(map[string]bool, len(indexed))
	for _, s := range indexed {
		known[s.Path] = true
	}
	openRel, openStart, hasOpen := readOpen(camDir)
	var deleted map[string]bool
	var out []Segment
	for _, f := range files {
		rel := path.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f))
		if known[rel] {
			continue
		}
		if deleted == nil {
			deleted = retentionDeleted(camDir)
		}
		if deleted[rel] {
			if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			continue
		}
		start, ok := openStart, hasOpen && rel == openRel
		if !ok {
			if start, ok = startFromName(rel); !ok {
				continue // not a segment name: not ours to touch
			}
		}
		out = append(out, Segment{Path: rel, Start: start})
	}
	slices.SortFunc(out, func(a, b Segment) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// startFromName parses "YYYY-MM-DD/HH-MM-SS[_N].mp4" as a UTC time.
func startFromName(rel string) (time.Time, bool) {
	s := strings.TrimSuffix(rel, ".mp4")
	if i := strings.IndexByte(s, '_'); i >= 0 {
		s = s[:i]
	}
	t, err := time.Parse("2006-01-02/15-04-05", s)
	return t, err == nil
}

// recoverOrphans indexes the segment files of camDir that were never
// closed, with the given end reason (EndCrash, EndError), and returns them
// oldest first.
func recoverOrphans(camDir, camera, reason string) ([]Segment, error) {
	indexed, err := ReadIndex(filepath.Dir(camDir), camera)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recover: %w", err)
	}
	found, err := orphans(camDir, indexed)
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	var out []Segment
	for _, o := range found {
		seg, ok, err := recoverFile(camDir, camera, o.Path, o.Start, reason)
		if err != nil {
			return out, err
		}
		if !ok {
			continue
		}
		if err := appendIndex(camDir, seg); err != nil {
			return out, fmt.Errorf("recover %s: %w", o.Path, err)
		}
		out = append(out, seg)
	}
	return out, nil
}
