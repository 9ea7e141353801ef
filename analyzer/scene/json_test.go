package scene

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestJSONRoundTrip checks that a scene written as JSON reads back the
// same, with the YAML field names and durations as Go text.
func TestJSONRoundTrip(t *testing.T) {
	s, err := Parse([]byte(goodScene))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"camera":"gate-1"`, `"points":[[0.1,0.6],[0.9,0.6]]`, `"kind":"no_parking"`,
		`"hold":"30s"`, `"dwell":"2m0s"`, `"area_m2":450`, `"direction":[0,1]`, `"stop_line":[[0.1,0.55],[0.9,0.55]]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	back, err := ParseJSON(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip changed the scene:\n got %+v\nwant %+v", back, s)
	}
	// And through YAML again: the file the engine keeps.
	y, err := yaml.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Parse(y); err != nil || !reflect.DeepEqual(again, s) {
		t.Errorf("JSON → YAML changed the scene (%v):\n%s", err, y)
	}
}

// TestJSONEmptyLists checks that an empty scene shows its lists as [].
func TestJSONEmptyLists(t *testing.T) {
	b, err := json.Marshal(Scene{Camera: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"camera":"c","lines":[],"zones":[],"lanes":[],"signals":[]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	s, err := ParseJSON(b)
	if err != nil || s.Camera != "c" || len(s.Lines)+len(s.Zones)+len(s.Lanes)+len(s.Signals) != 0 {
		t.Errorf("got %+v, %v", s, err)
	}
}

func TestJSONDurationForms(t *testing.T) {
	for in, want := range map[string]string{`"10s"`: "10s", `"1m30s"`: "1m30s", `12.5`: "12.5s", `30`: "30s", `"500ms"`: "500ms"} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := d.D().String(); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}

// TestParseJSONBad checks that every problem names the item and the field.
func TestParseJSONBad(t *testing.T) {
	const tri = `[[0,0],[1,0],[1,1]]`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", ``, "the document is empty"},
		{"not an object", `[1, 2]`, "expected the scene as a JSON object"},
		{"malformed", `{"camera": "c",}`, "malformed JSON at byte"},
		{"two values", `{"camera": "c"} {}`, "more than one JSON value"},
		{"unknown top field", `{"camera": "c", "lane": []}`, `field "lane" is not a known field`},
		{"camera not text", `{"camera": 5}`, "camera: expected a string, got a JSON number"},
		{"lines not a list", `{"camera": "c", "lines": {"id": "a"}}`, "lines: expected a list, got a JSON object"},
		{"item not an object", `{"camera": "c", "lines": [3]}`, "lines[0]: expected an item as a JSON object"},
		{"unknown item field", `{"camera": "c", "lines": [{"id": "a", "points": [[0,0],[1,1]], "colour": "red"}]}`,
			`lines[0] "a": field "colour" is not a known field`},
		{"threshold as text", `{"camera": "c", "zones": [{"id": "z", "kind": "crowd", "polygon": ` + tri + `, "threshold": "high"}]}`,
			`zones[0] "z": threshold: expected a number, got a JSON string`},
		{"bad duration", `{"camera": "c", "zones": [{"id": "stop", "kind": "no_parking", "polygon": ` + tri + `, "dwell": "soon"}]}`,
			`zones[0] "stop": dwell: invalid duration "soon"`},
		{"point of three", `{"camera": "c", "lines": [{"id": "a", "points": [[0,0,0],[1,1]]}]}`, `lines[0] "a": points: a point is [x, y]`},
		{"x outside", `{"camera": "c", "lines": [{"id": "north", "points": [[0.1,0.5],[1.3,0.5]]}]}`,
			`lines[0] "north": points[1]: x 1.3 is outside 0..1`},
		{"dwell on crowd", `{"camera": "c", "zones": [{"id": "z", "kind": "crowd", "polygon": ` + tri + `, "dwell": "10s"}]}`,
			`zones[0] "z": dwell applies to no_parking zones only`},
		{"no camera", `{"lines": []}`, "camera is empty"},
		{"unknown firesmoke field", `{"camera": "c", "firesmoke": {"every": "10s"}}`, `firesmoke: field "every" is not a known field`},
		{"firesmoke interval as a list", `{"camera": "c", "firesmoke": {"interval": [10]}}`, `firesmoke: interval: invalid duration`},
		{"firesmoke not an object", `{"camera": "c", "firesmoke": "stills"}`, `firesmoke: expected the fire and smoke settings as a JSON object`},
		{"too many", `{"camera": "c", "lanes": [` + strings.TrimSuffix(strings.Repeat(`{},`, MaxItems+1), ",") + `]}`, "lanes: 257 items, at most 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.in))
			if err == nil {
				t.Fatal("parsed")
			}
			if !errors.Is(err, ErrInvalidScene) {
				t.Errorf("error %q does not wrap ErrInvalidScene", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// FuzzParseJSON checks that no input panics and that whatever parses
// also validates and survives a write and a re-read.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"camera":"c","zones":[{"id":"z","kind":"no_parking","polygon":[[0,0],[1,0],[1,1]],"dwell":"10s"}]}`))
	f.Add([]byte(`{"camera":"c","lines":[{"id":"a","points":[[0,0],[1,1]]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseJSON(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidScene) {
				t.Fatalf("error %q does not wrap ErrInvalidScene", err)
			}
			return
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseJSON(out); err != nil {
			t.Fatalf("written scene does not parse: %v\n%s", err, out)
		}
	})
}
