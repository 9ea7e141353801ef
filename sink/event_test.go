package sink

import (
	"encoding/json"
	"errors"
	"reflect"
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

func TestValidateJSON(t *testing.T) {
	ok, _ := json.Marshal(NewEvent(TypeAlertSmoke, "cam-1", time.Now()))
	if err := ValidateJSON(ok); err != nil {
		t.Fatalf("a new event does not validate: %v", err)
	}
	for name, b := range map[string]string{
		"not json":      `{`,
		"no camera":     `{"id":"01a21c41-3767-7033-8589-caa1338153dc","schema":"matthan.event/v1","type":"alert.smoke","ts":"2026-01-01T00:00:00.000Z"}`,
		"unknown field": strings.Replace(string(ok), `"schema"`, `"colour":"red","schema"`, 1),
	} {
		if err := ValidateJSON([]byte(b)); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: got %v, want ErrInvalidEvent", name, err)
		}
	}
}
