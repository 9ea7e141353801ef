package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// IndexFile is the name of a camera's segment index, in <Root>/<CameraID>.
const IndexFile = "index.jsonl"

// lockFile is the lock taken while the index is changed, in <Root>/<CameraID>.
const lockFile = "index.lock"

// indexTimeLayout is RFC 3339 in UTC with milliseconds, as the index stores times.
const indexTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Why a segment ended, as Segment.EndReason records it.
const (
	EndDuration = "duration" // SegmentDuration reached at a keyframe; the next segment follows without a gap
	EndParams   = "params"   // the stream parameters changed
	EndGap      = "gap"      // access units were lost or could not be timed: the recording has a hole after End
	EndStop     = "stop"     // the recorder stopped
	EndError    = "error"    // writing failed; the file holds the complete parts written before the failure
	EndCrash    = "crash"    // the recorder stopped without closing it (kill, power loss); recovered at the next start up to its last complete part
)

// Segment is one closed segment file as the index records it.
type Segment struct {
	Camera    string        // the camera id
	Path      string        // the file, relative to <Root>/<Camera>, with forward slashes
	Start     time.Time     // capture time of the first (key) frame, UTC, millisecond precision
	End       time.Time     // capture time at which the last frame stops being shown
	Duration  time.Duration // End - Start: the presentation length of the file
	Size      int64         // file size in bytes
	SHA256    string        // hex sha256 of the whole file
	Frames    int           // number of samples (access units) in the file
	EndReason string        // why the segment ended: EndDuration, EndParams, EndGap, EndStop, EndError or EndCrash
}

// segmentJSON is the index line of a Segment.
type segmentJSON struct {
	Camera    string  `json:"camera"`
	Path      string  `json:"path"`
	Start     string  `json:"start"`
	End       string  `json:"end"`
	Duration  float64 `json:"duration"` // seconds, millisecond precision
	Size      int64   `json:"size"`
	SHA256    string  `json:"sha256"`
	Frames    int     `json:"frames"`
	EndReason string  `json:"end_reason"`
}

// MarshalJSON encodes the segment as its index line: times in UTC RFC 3339
// with milliseconds, duration in seconds.
func (s Segment) MarshalJSON() ([]byte, error) {
	return json.Marshal(segmentJSON{
		Camera:    s.Camera,
		Path:      s.Path,
		Start:     s.Start.UTC().Format(indexTimeLayout),
		End:       s.End.UTC().Format(indexTimeLayout),
		Duration:  math.Round(s.Duration.Seconds()*1000) / 1000,
		Size:      s.Size,
		SHA256:    s.SHA256,
		Frames:    s.Frames,
		EndReason: s.EndReason,
	})
}

// UnmarshalJSON decodes an index line.
func (s *Segment) UnmarshalJSON(b []byte) error {
	var j segmentJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	start, end, err := parseSpan(j.Start, j.End)
	if err != nil {
		return err
	}
	*s = Segment{
		Camera:    j.Camera,
		Path:      j.Path,
		Start:     start.UTC(),
		End:       end.UTC(),
		Duration:  time.Duration(math.Round(j.Duration*1000)) * time.Millisecond,
		Size:      j.Size,
		SHA256:    j.SHA256,
		Frames:    j.Frames,
		EndReason: j.EndReason,
	}
	return nil
}

// ReadIndex returns the segments of camera under root in the order they were
// closed. A missing index is an error that matches fs.ErrNotExist. A last line
// cut short by a crash is ignored; any other bad line is ErrCorruptIndex.
func ReadIndex(root, camera string) ([]Segment, error) {
	if err := checkCameraID(camera); err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	name := filepath.Join(root, camera, IndexFile)
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	var segs []Segment
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		data = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var s Segment
		if err := json.Unmarshal(line, &s); err != nil {
			if !complete {
				break // torn final append: the segment was never indexed
			}
			return nil, fmt.Errorf("read index %s line %d: %w: %v", name, n, ErrCorruptIndex, err)
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// appendIndex adds one line for seg to the index in dir and syncs it,
// holding the index lock so a retention sweep cannot lose the line.
func appendIndex(dir string, seg Segment) error {
	err := withIndexLock(dir, func() error {
		return appendLine(filepath.Join(dir, IndexFile), seg)
	})
	if err != nil {
		return fmt.Errorf("append index: %w", err)
	}
	return nil
}

// rewriteIndex replaces the index in dir by the segments keep accepts,
// atomically (a temporary file renamed over it), under the index lock. It
// returns the segments it removed.
func rewriteIndex(dir string, keep func(Segment) bool) ([]Segment, error) {
	var removed []Segment
	err := withIndexLock(dir, func() error {
		camera := filepath.Base(dir)
		segs, err := ReadIndex(filepath.Dir(dir), camera)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		for _, s := range segs {
			if !keep(s) {
				removed = append(removed, s)
				continue
			}
			line, err := json.Marshal(s)
			if err != nil {
				return err
			}
			buf.Write(append(line, '\n'))
		}
		if len(removed) == 0 {
			return nil
		}
		return writeFileAtomic(filepath.Join(dir, IndexFile), buf.Bytes())
	})
	if err != nil {
		return nil, fmt.Errorf("rewrite index: %w", err)
	}
	return removed, nil
}

// writeFileAtomic replaces name by data: a synced temporary file in the
// same directory renamed over it, then the directory synced.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return syncDir(filepath.Dir(name))
}

// withIndexLock runs fn holding an exclusive flock on <dir>/index.lock,
// which serialises the writers of the index (recorder, recovery,
// retention), also across processes.
func withIndexLock(dir string, fn func() error) error {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close() // closing releases the lock
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return fn()
}

// parseSpan parses the start and end times of an index or ledger line.
func parseSpan(start, end string) (time.Time, time.Time, error) {
	s, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("field start: %w", err)
	}
	e, err := time.Parse(time.RFC3339Nano, end)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("field end: %w", err)
	}
	return s, e, nil
}
