package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// IndexFile is the name of a camera's segment index, in <Root>/<CameraID>.
const IndexFile = "index.jsonl"

// indexTimeLayout is RFC 3339 in UTC with milliseconds, as the index stores times.
const indexTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Why a segment ended, as Segment.EndReason records it.
const (
	EndDuration = "duration" // SegmentDuration reached at a keyframe; the next segment follows without a gap
	EndParams   = "params"   // the stream parameters changed
	EndGap      = "gap"      // access units were lost or could not be timed: the recording has a hole after End
	EndStop     = "stop"     // the recorder stopped
	EndError    = "error"    // writing failed; the file holds what was written before the failure
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
	EndReason string        // why the segment ended: EndDuration, EndParams, EndGap, EndStop or EndError
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
	start, err := time.Parse(time.RFC3339Nano, j.Start)
	if err != nil {
		return fmt.Errorf("field start: %w", err)
	}
	end, err := time.Parse(time.RFC3339Nano, j.End)
	if err != nil {
		return fmt.Errorf("field end: %w", err)
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

// appendIndex adds one line for seg to the index in dir and syncs it.
func appendIndex(dir string, seg Segment) error {
	line, err := json.Marshal(seg)
	if err != nil {
		return fmt.Errorf("append index: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, IndexFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("append index: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append index: %w", err)
	}
	return nil
}

// repairIndex cuts off a last line that a crash left unfinished, so the
// next append starts on a line of its own and the index stays readable.
// The segment of that line stays on disk, unindexed.
func repairIndex(dir string) error {
	name := filepath.Join(dir, IndexFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("repair index: %w", err)
	}
	if len(data) == 0 || data[len(data)-1] == '\n' {
		return nil
	}
	keep := bytes.LastIndexByte(data, '\n') + 1
	if err := os.Truncate(name, int64(keep)); err != nil {
		return fmt.Errorf("repair index: %w", err)
	}
	return nil
}
