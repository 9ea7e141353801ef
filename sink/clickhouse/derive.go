package clickhouse

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/sink"
)

// minuteLayout is how DateTime (second) values are written in JSONEachRow.
const minuteLayout = "2006-01-02 15:04:05"

// Measures keys of a recording.gap event that give its bounds exactly, in
// Unix milliseconds. The engine may set them; without them the bounds come
// from the event's detail, or its ts and duration_s.
const (
	MeasureGapStart = "start_unix_ms"
	MeasureGapEnd   = "end_unix_ms"
)

// tables collects one batch's rows per table, as JSONEachRow.
type tables struct {
	events, traffic, health, gaps [][]byte
}

// eventRow is one events row.
type eventRow struct {
	ID           string         `json:"id"`
	Schema       string         `json:"schema"`
	Type         string         `json:"type"`
	CameraID     string         `json:"camera_id"`
	SystemID     string         `json:"system_id"`
	TS           string         `json:"ts"`
	Node         string         `json:"node"`
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version"`
	Counts       map[string]int `json:"counts,omitempty"`
	Payload      string         `json:"payload"`
}

// trafficRow is one traffic_counts row: one camera, line, direction and
// class in one minute.
type trafficRow struct {
	CameraID  string `json:"camera_id"`
	TS        string `json:"ts"`
	Line      string `json:"line"`
	Direction string `json:"direction"`
	Class     string `json:"class"`
	Count     uint64 `json:"count"`
}

// healthRow is one camera_health row.
type healthRow struct {
	CameraID string `json:"camera_id"`
	TS       string `json:"ts"`
	Type     string `json:"type"`
	Detail   string `json:"detail"`
	Node     string `json:"node"`
	ID       string `json:"id"`
}

// gapRow is one recording_gaps row.
type gapRow struct {
	CameraID string `json:"camera_id"`
	Start    string `json:"start_ts"`
	End      string `json:"end_ts"`
	Cause    string `json:"cause"`
	Node     string `json:"node"`
	ID       string `json:"id"`
}

// add appends the rows of one valid event.
func (t *tables) add(e sink.Event) error {
	id := canonicalID(e.ID)
	payload, err := e.MarshalJSON() // not json.Marshal: that compacts the result once more
	if err != nil {
		return fmt.Errorf("encode %s: %w", e.ID, err)
	}
	r := eventRow{
		ID: id, Schema: e.Schema, Type: e.Type, CameraID: e.CameraID, SystemID: e.SystemID,
		TS: e.TS.UTC().Format(tsLayout), Node: e.Node, Counts: e.Counts, Payload: string(payload),
	}
	if e.Model != nil {
		r.ModelName, r.ModelVersion = e.Model.Name, e.Model.Version
	}
	if t.events, err = appendJSON(t.events, r); err != nil {
		return fmt.Errorf("encode %s: %w", e.ID, err)
	}
	switch {
	case e.Type == sink.TypeTrafficCount:
		for _, c := range trafficCounts(e) {
			if t.traffic, err = appendJSON(t.traffic, c); err != nil {
				return fmt.Errorf("encode %s: %w", e.ID, err)
			}
		}
	case strings.HasPrefix(e.Type, "camera."):
		h := healthRow{CameraID: e.CameraID, TS: e.TS.UTC().Format(tsLayout), Type: e.Type, Detail: e.Detail, Node: e.Node, ID: id}
		if t.health, err = appendJSON(t.health, h); err != nil {
			return fmt.Errorf("encode %s: %w", e.ID, err)
		}
	case e.Type == sink.TypeRecordingGap:
		start, end, cause := gapBounds(e)
		g := gapRow{CameraID: e.CameraID, Start: start.Format(tsLayout), End: end.Format(tsLayout), Cause: cause, Node: e.Node, ID: id}
		if t.gaps, err = appendJSON(t.gaps, g); err != nil {
			return fmt.Errorf("encode %s: %w", e.ID, err)
		}
	}
	return nil
}

func appendJSON(rows [][]byte, v any) ([][]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return rows, err
	}
	return append(rows, b), nil
}

// canonicalID returns a valid UUID in its lowercase hyphenated form, the
// form ClickHouse prints.
func canonicalID(id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return id
	}
	return u.String()
}

// trafficCounts splits a traffic.count event into traffic_counts rows: one
// per Measures key "in.<class>" or "out.<class>" with a count above zero,
// in the minute of the event's ts (the start of its interval), sorted by
// direction and class. A count that is not a whole number ≥ 0 is left out
// (the event keeps it in events.payload): no producer of this repository
// makes one.
func trafficCounts(e sink.Event) []trafficRow {
	ts := e.TS.UTC().Truncate(time.Minute).Format(minuteLayout)
	var rows []trafficRow
	for k, v := range e.Measures {
		dir, class, ok := strings.Cut(k, ".")
		if !ok || (dir != "in" && dir != "out") || class == "" {
			continue
		}
		if v <= 0 || v != math.Trunc(v) || v > 1<<53 {
			continue
		}
		rows = append(rows, trafficRow{CameraID: e.CameraID, TS: ts, Line: e.Line, Direction: dir, Class: class, Count: uint64(v)})
	}
	slices.SortFunc(rows, func(a, b trafficRow) int {
		if c := strings.Compare(a.Direction, b.Direction); c != 0 {
			return c
		}
		return strings.Compare(a.Class, b.Class)
	})
	return rows
}

// gapDetail matches the detail of the engine's recording.gap events:
// "no recording from START to END (cause: CAUSE)".
var gapDetail = regexp.MustCompile(`^no recording from (\S+) to (\S+) \(cause: ([^)]*)\)$`)

// gapBounds returns a recording.gap event's start, end (UTC) and cause.
// Start and end come from the Measures MeasureGapStart and MeasureGapEnd
// when set, else from the detail, else start is ts and end ts + duration_s.
// The cause comes from the detail; "" when it does not say.
func gapBounds(e sink.Event) (start, end time.Time, cause string) {
	start = e.TS.UTC()
	end = start.Add(time.Duration(e.Measures["duration_s"] * float64(time.Second)))
	if m := gapDetail.FindStringSubmatch(e.Detail); m != nil {
		cause = m[3]
		s, err1 := time.Parse(time.RFC3339Nano, m[1])
		t, err2 := time.Parse(time.RFC3339Nano, m[2])
		if err1 == nil && err2 == nil && !t.Before(s) {
			start, end = s.UTC(), t.UTC()
		}
	}
	if ms, ok := e.Measures[MeasureGapStart]; ok {
		start = time.UnixMilli(int64(ms)).UTC()
	}
	if ms, ok := e.Measures[MeasureGapEnd]; ok {
		end = time.UnixMilli(int64(ms)).UTC()
	}
	return start, end, cause
}
