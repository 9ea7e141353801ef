package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"
)

// GapsFile is the name of a camera's gap ledger, in <Root>/<CameraID>.
const GapsFile = "gaps.jsonl"

// Why a camera was not recorded, as Gap.Cause records it.
const (
	// GapStream: the stream broke off: no access units for a while (camera
	// down, network, reconnect), timestamps jumped, or units came that could
	// not be recorded.
	GapStream = "stream"
	// GapQueue: the recorder's queue was full and access units were dropped.
	GapQueue = "queue"
	// GapDisk: writing to the disk failed (full, read-only, I/O error).
	GapDisk = "disk"
	// GapRestart: the recorder was not running (engine stopped, crashed or
	// restarted).
	GapRestart = "restart"
)

// minGap is the shortest hole between two segments the ledger records:
// three frames at 30 fps. A shorter one is capture-time jitter between
// segments that join (a parameter change at a keyframe), not an outage.
const minGap = 100 * time.Millisecond

// Gap is an interval in which a camera was not recorded.
type Gap struct {
	Camera string    // the camera id
	Start  time.Time // end of the last recorded frame before the gap, UTC, millisecond precision
	End    time.Time // capture time of the first recorded frame after it
	Cause  string    // GapStream, GapQueue, GapDisk or GapRestart
}

// Duration is End - Start.
func (g Gap) Duration() time.Duration { return g.End.Sub(g.Start) }

// gapJSON is the ledger line of a Gap.
type gapJSON struct {
	Camera   string  `json:"camera"`
	Start    string  `json:"start"`
	End      string  `json:"end"`
	Duration float64 `json:"duration"` // seconds, for people reading the file
	Cause    string  `json:"cause"`
}

// MarshalJSON encodes the gap as its ledger line: times in UTC RFC 3339
// with milliseconds, duration in seconds.
func (g Gap) MarshalJSON() ([]byte, error) {
	return json.Marshal(gapJSON{
		Camera:   g.Camera,
		Start:    g.Start.UTC().Format(indexTimeLayout),
		End:      g.End.UTC().Format(indexTimeLayout),
		Duration: math.Round(g.Duration().Seconds()*1000) / 1000,
		Cause:    g.Cause,
	})
}

// UnmarshalJSON decodes a ledger line.
func (g *Gap) UnmarshalJSON(b []byte) error {
	var j gapJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	start, end, err := parseSpan(j.Start, j.End)
	if err != nil {
		return err
	}
	*g = Gap{Camera: j.Camera, Start: start.UTC(), End: end.UTC(), Cause: j.Cause}
	return nil
}

// ReadGaps returns the gaps of camera under root that overlap [from, to),
// oldest first. A zero from or to leaves that side open. A camera without a
// ledger has no gaps. A last line cut short by a crash is ignored; any other
// bad line is ErrCorruptIndex.
func ReadGaps(root, camera string, from, to time.Time) ([]Gap, error) {
	if err := checkCameraID(camera); err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	var out []Gap
	err := readLines(filepath.Join(root, camera, GapsFile), func(line []byte) error {
		var g Gap
		if err := json.Unmarshal(line, &g); err != nil {
			return err
		}
		if (to.IsZero() || g.Start.Before(to)) && (from.IsZero() || g.End.After(from)) {
			out = append(out, g)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read gaps: %w", err)
	}
	return out, nil
}

// Uptime returns how much of a camera's day was recorded and how much is in
// the gap ledger. The day is the calendar day of day in loc (UTC
// when nil). Time not covered by either is the part of the day the recorder
// has not accounted for yet: the future, the segment being written and an
// outage still going on; recordings removed by retention no longer count.
func Uptime(root, camera string, day time.Time, loc *time.Location) (recorded, gaps time.Duration, err error) {
	if loc == nil {
		loc = time.UTC
	}
	d := day.In(loc)
	from := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 1)
	segs, err := ReadIndex(root, camera)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, 0, fmt.Errorf("uptime: %w", err)
	}
	for _, s := range segs {
		recorded += overlap(s.Start, s.End, from, to)
	}
	gs, err := ReadGaps(root, camera, from, to)
	if err != nil {
		return 0, 0, fmt.Errorf("uptime: %w", err)
	}
	for _, g := range gs {
		gaps += overlap(g.Start, g.End, from, to)
	}
	return recorded, gaps, nil
}

// overlap is the length of [a, b) ∩ [from, to).
func overlap(a, b, from, to time.Time) time.Duration {
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if !b.After(a) {
		return 0
	}
	return b.Sub(a)
}

// readLines calls fn with every non-empty line of a JSON-lines file. A last
// line without its newline that fn rejects is a torn append and is
// skipped; any other rejected line is ErrCorruptIndex naming the line.
func readLines(name string, fn func([]byte) error) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	for n := 1; len(data) > 0; n++ {
		line, rest, complete := bytes.Cut(data, []byte("\n"))
		data = rest
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			if !complete {
				return nil
			}
			return fmt.Errorf("%s line %d: %w: %v", name, n, ErrCorruptIndex, err)
		}
	}
	return nil
}

// appendLine appends v as one JSON line to the file name, creating it, and
// syncs it. A last line left unfinished by a crash is cut off first, so
// the new line starts on a line of its own.
func appendLine(name string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = appendTo(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// appendTo writes line and a newline at the end of f after cutting off a
// torn last line, and syncs f.
func appendTo(f *os.File, line []byte) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	if end > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], end-1); err != nil {
			return err
		}
		if last[0] != '\n' {
			data := make([]byte, end)
			if _, err := f.ReadAt(data, 0); err != nil {
				return err
			}
			end = int64(bytes.LastIndexByte(data, '\n') + 1)
			if err := f.Truncate(end); err != nil {
				return err
			}
		}
	}
	if _, err := f.WriteAt(append(line, '\n'), end); err != nil {
		return err
	}
	return f.Sync()
}
