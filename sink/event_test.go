package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var captured = time.Date(2025, 3, 14, 8, 30, 15, 123456789, time.FixedZone("ICT", 7*3600))

func sampleEvents() map[string]Event {
	summary := NewEvent(TypeDetectionSummary, "cam-01", captured)
	summary.Counts = map[string]int{"car": 3, "person": 1}
	summary.Model = &ModelRef{Name: "yolox_nano", Version: "0.1.1"}
	summary.Node = "node-a"

	violation := NewEvent(TypeViolationRedLight, "cam-02", captured)
	violation.SystemID = "sys-traffic"
	violation.Tier = "II"
	violation.Line = "stop-1"
	violation.Object = &Object{TrackID: 42, Class: "car", Confidence: 0.91, Box: [4]float32{0.1, 0.2, 0.3, 0.4}}
	violation.Measures = map[string]float64{"speed": 37.5}
	violation.Evidence = &Evidence{
		SnapshotSHA256: strings.Repeat("ab", 32),
		ClipFrom:       captured.Add(-5 * time.Second),
		ClipTo:         captured.Add(5 * time.Second),
	}

	return map[string]Event{
		"detection summary": summary,
		"violation":         violation,
		"camera offline":    NewEvent(TypeCameraOffline, "cam-03", captured),
	}
}

func TestEventJSONMatchesSchema(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	for name, e := range sampleEvents() {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if errs := checkSchema(doc, schema, "$"); len(errs) > 0 {
				t.Errorf("%s\ndoes not match the schema:\n%s", b, strings.Join(errs, "\n"))
			}
			if got, want := doc["ts"], "2025-03-14T01:30:15.123Z"; got != want {
				t.Errorf("ts = %v, want %v (UTC, ms)", got, want)
			}

			var back Event
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			want := e
			want.TS = e.TS.Truncate(time.Millisecond).UTC()
			if !back.TS.Equal(want.TS) {
				t.Errorf("ts round trip = %v, want %v", back.TS, want.TS)
			}
			back.TS, want.TS = time.Time{}, time.Time{}
			if want.Evidence != nil { // clip times keep their zone's offset, not its name
				if !back.Evidence.ClipFrom.Equal(want.Evidence.ClipFrom) || !back.Evidence.ClipTo.Equal(want.Evidence.ClipTo) {
					t.Errorf("clip window round trip = %+v, want %+v", back.Evidence, want.Evidence)
				}
				ev := *want.Evidence
				ev.ClipFrom, ev.ClipTo = back.Evidence.ClipFrom, back.Evidence.ClipTo
				want.Evidence = &ev
			}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", back, want)
			}
		})
	}
}

// TestSchemaRejects shows the schema check can fail: each case breaks one rule.
func TestSchemaRejects(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	base := sampleEvents()["violation"]
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		fault string
	}{
		{"missing camera_id", func(m map[string]any) { delete(m, "camera_id") }, "$.camera_id: required"},
		{"ts not a string", func(m map[string]any) { m["ts"] = 1741915815123 }, "$.ts: want string"},
		{"bad tier", func(m map[string]any) { m["tier"] = "IV" }, "$.tier: not one of"},
		{"confidence above 1", func(m map[string]any) { m["object"].(map[string]any)["confidence"] = 1.5 }, "$.object.confidence: above"},
		{"box of 3", func(m map[string]any) { m["object"].(map[string]any)["box"] = []any{0.1, 0.2, 0.3} }, "$.object.box: fewer than"},
		{"unknown field", func(m map[string]any) { m["colour"] = "red" }, "$.colour: not allowed"},
		{"fractional count", func(m map[string]any) { m["counts"] = map[string]any{"car": 1.5} }, "$.counts.car: want integer"},
		{"bad type", func(m map[string]any) { m["type"] = "RedLight" }, "$.type: does not match"},
		{"wrong schema", func(m map[string]any) { m["schema"] = "matthan.event/v2" }, "$.schema: want const"},
		{"id not uuid", func(m map[string]any) { m["id"] = "42" }, "$.id: not a uuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(base)
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			tt.edit(doc)
			errs := checkSchema(doc, schema, "$")
			if !slices.ContainsFunc(errs, func(s string) bool { return strings.HasPrefix(s, tt.fault) }) {
				t.Errorf("errors %q, want one starting with %q", errs, tt.fault)
			}
		})
	}
}

func TestNewEvent(t *testing.T) {
	a := NewEvent(TypeAlertFire, "cam-9", captured)
	b := NewEvent(TypeAlertFire, "cam-9", captured)
	id, err := uuid.Parse(a.ID)
	if err != nil || id.Version() != 7 {
		t.Fatalf("id %q: version %v, err %v; want a UUIDv7", a.ID, id.Version(), err)
	}
	if a.ID == b.ID {
		t.Errorf("two events share id %s", a.ID)
	}
	if a.Schema != SchemaVersion || a.Type != TypeAlertFire || a.CameraID != "cam-9" || a.TS.Location() != time.UTC {
		t.Errorf("NewEvent = %+v", a)
	}
	if err := a.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestEventValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *Event)
		want string // "" = valid
	}{
		{"valid", func(*Event) {}, ""},
		{"no id", func(e *Event) { e.ID = "" }, "id is empty"},
		{"id not uuid", func(e *Event) { e.ID = "x'); DROP TABLE events" }, "is not a UUID"},
		{"no schema", func(e *Event) { e.Schema = "" }, "schema is empty"},
		{"no type", func(e *Event) { e.Type = "" }, "type is empty"},
		{"no camera", func(e *Event) { e.CameraID = "" }, "camera_id is empty"},
		{"no ts", func(e *Event) { e.TS = time.Time{} }, "ts is zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEvent(TypeTrafficCount, "cam-1", captured)
			tt.edit(&e)
			err := e.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			case tt.want != "" && !errors.Is(err, ErrInvalidEvent):
				t.Errorf("Validate() = %v, want it to wrap ErrInvalidEvent", err)
			}
		})
	}
}

// checkSchema checks v against the subset of JSON Schema our schema file
// uses, returning one message per fault, each starting with its path.
func checkSchema(v any, s map[string]any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }

	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want object, got %T", v)
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asSlice(s["required"]) {
			if _, ok := m[r.(string)]; !ok {
				errs = append(errs, path+"."+r.(string)+": required")
			}
		}
		for k, val := range m {
			if p, ok := props[k]; ok {
				errs = append(errs, checkSchema(val, p.(map[string]any), path+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, path+"."+k+": not allowed")
				}
			case map[string]any:
				errs = append(errs, checkSchema(val, ap, path+"."+k)...)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("want array, got %T", v)
			return errs
		}
		if n, ok := s["minItems"].(float64); ok && float64(len(a)) < n {
			fail("fewer than %v items", n)
		}
		if n, ok := s["maxItems"].(float64); ok && float64(len(a)) > n {
			fail("more than %v items", n)
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, x := range a {
				errs = append(errs, checkSchema(x, items, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("want string, got %T", v)
			return errs
		}
		if c, ok := s["const"]; ok && c != str {
			fail("want const %v, got %q", c, str)
		}
		if enum := asSlice(s["enum"]); enum != nil && !slices.Contains(enum, any(str)) {
			fail("not one of %v", enum)
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			fail("does not match %s", p)
		}
		if n, ok := s["minLength"].(float64); ok && float64(len(str)) < n {
			fail("shorter than %v", n)
		}
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				fail("not a date-time: %v", err)
			}
		case "uuid":
			if _, err := uuid.Parse(str); err != nil {
				fail("not a uuid: %v", err)
			}
		}
	case "number", "integer":
		f, ok := v.(float64)
		if !ok {
			fail("want %v, got %T", s["type"], v)
			return errs
		}
		if s["type"] == "integer" && f != math.Trunc(f) {
			fail("want integer, got %v", f)
		}
		if n, ok := s["minimum"].(float64); ok && f < n {
			fail("below %v", n)
		}
		if n, ok := s["maximum"].(float64); ok && f > n {
			fail("above %v", n)
		}
	default:
		fail("schema type %v not handled by the test", s["type"])
	}
	return errs
}

func asSlice(v any) []any {
	a, _ := v.([]any)
	return a
}
