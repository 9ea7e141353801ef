package scene

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const goodScene = `
camera: gate-1
lines:
  - id: north
    points: [[0.1, 0.6], [0.9, 0.6]]
    classes: [car, truck]
zones:
  - id: plaza
    kind: crowd
    polygon: [[0.2, 0.2], [0.8, 0.2], [0.8, 0.9], [0.2, 0.9]]
    area_m2: 450
    threshold: 1.5
    clear: 1
    hold: 30
  - id: bus-stop
    kind: no_parking
    polygon: [[0.6, 0.5], [0.9, 0.5], [0.9, 0.7]]
    dwell: 2m
  - id: hill
    kind: smoke_watch
    polygon: [[0, 0], [1, 0], [1, 0.5], [0, 0.5]]
firesmoke:
  mode: stills
  interval: 15
lanes:
  - id: southbound
    polygon: [[0.1, 0.3], [0.5, 0.3], [0.5, 1], [0.1, 1]]
    direction: [0, 1]
    classes: [car]
signals:
  - id: main-st
    roi: [[0.45, 0.05], [0.48, 0.15]]
    stop_line: [[0.1, 0.55], [0.9, 0.55]]
`

func TestParseGood(t *testing.T) {
	s, err := Parse([]byte(goodScene))
	if err != nil {
		t.Fatal(err)
	}
	if s.Camera != "gate-1" || len(s.Lines) != 1 || len(s.Zones) != 3 || len(s.Lanes) != 1 || len(s.Signals) != 1 {
		t.Fatalf("parsed %+v", s)
	}
	if got := s.Lines[0].Segment(); got != (Segment{Point{0.1, 0.6}, Point{0.9, 0.6}}) {
		t.Errorf("line segment %v", got)
	}
	if z := s.Zones[0]; z.Hold.D() != 30*time.Second || z.AreaM2 != 450 || z.Threshold != 1.5 || z.Clear != 1 {
		t.Errorf("crowd zone %+v", z)
	}
	if d := s.Zones[1].Dwell.D(); d != 2*time.Minute {
		t.Errorf("dwell %v", d)
	}
	if fs := s.FireSmoke; fs == nil || fs.Mode != FireSmokeStills || fs.Interval.D() != 15*time.Second {
		t.Errorf("firesmoke %+v, want stills every 15 s", fs)
	}
	if s.Lanes[0].Direction != (Point{0, 1}) {
		t.Errorf("lane direction %v", s.Lanes[0].Direction)
	}
	// A scene written back reads the same.
	out, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Parse(out)
	if err != nil {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
	if s2.Zones[0].Hold != s.Zones[0].Hold || s2.Lines[0].Points[1] != s.Lines[0].Points[1] || *s2.FireSmoke != *s.FireSmoke {
		t.Errorf("round trip changed the scene:\n%s", out)
	}
}

func TestDurationForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"30", 30 * time.Second},
		{"2.5", 2500 * time.Millisecond},
		{"500ms", 500 * time.Millisecond},
		{"1m30s", 90 * time.Second},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var d Duration
			if err := yaml.Unmarshal([]byte(tc.in), &d); err != nil {
				t.Fatal(err)
			}
			if d.D() != tc.want {
				t.Errorf("got %v, want %v", d.D(), tc.want)
			}
		})
	}
}

// badScenes are malformed scenes with a part of the error each must give.
// They also seed FuzzParse.
var badScenes = []struct {
	name, in, want string
}{
	{"empty", ``, "empty"},
	{"no camera", `lines: []`, "camera is empty"},
	{"bad camera id", `camera: "a b"`, `camera "a b"`},
	{"unknown top key", "camera: c\nlane: []", `key "lane" is not a known key of scene`},
	{"unknown line key", "camera: c\nlines: [{id: a, points: [[0,0],[1,1]], colour: red}]", `key "colour" is not a known key of line`},
	{"two documents", "camera: c\n---\ncamera: d", "more than one YAML document"},
	{"x outside", "camera: c\nlines: [{id: a, points: [[0,0],[0,1]]}, {id: b, points: [[0,0],[0,1]]}, {id: north, points: [[0.1,0.5],[1.3,0.5]]}]",
		`lines[2] "north": points[1]: x 1.3 is outside 0..1`},
	{"negative y", "camera: c\nlines: [{id: a, points: [[0,-0.1],[1,1]]}]", `lines[0] "a": points[0]: y -0.1 is outside 0..1`},
	{"NaN", "camera: c\nlines: [{id: a, points: [[.nan,0],[1,1]]}]", `points[0]: x NaN is outside 0..1`},
	{"three points", "camera: c\nlines: [{id: a, points: [[0,0],[1,1],[0,1]]}]", `lines[0] "a": points: expected 2 points`},
	{"point of three numbers", "camera: c\nlines: [{id: a, points: [[0,0,0],[1,1]]}]", "a point is [x, y]"},
	{"point of strings", "camera: c\nlines: [{id: a, points: [[a,b],[1,1]]}]", "with numbers"},
	{"same points", "camera: c\nlines: [{id: a, points: [[0.5,0.5],[0.5,0.5]]}]", "points: the two points are the same"},
	{"missing id", "camera: c\nlines: [{points: [[0,0],[1,1]]}]", "lines[0]: id is empty"},
	{"duplicate id", "camera: c\nlines: [{id: a, points: [[0,0],[1,1]]}]\nzones: [{id: a, kind: ignore, polygon: [[0,0],[1,0],[1,1]]}]",
		`zones[0] "a": id is also used by lines[0] "a"`},
	{"unknown anchor", "camera: c\nlines: [{id: a, points: [[0,0],[1,1]], anchor: top}]", `lines[0] "a": anchor "top": expected center or bottom`},
	{"duplicate class", "camera: c\nlines: [{id: a, points: [[0,0],[1,1]], classes: [car, car]}]", `classes[1]: "car" is listed twice`},
	{"unknown kind", "camera: c\nzones: [{id: z, kind: parking, polygon: [[0,0],[1,0],[1,1]]}]", `zones[0] "z": kind "parking": expected one of`},
	{"two-point polygon", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0]]}]", "polygon: expected at least 3 points, got 2"},
	{"flat polygon", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[0.5,0.5],[1,1]]}]", "fold back onto each other"},
	{"tiny polygon", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[0.0001,0],[0,0.0001]]}]", "polygon: encloses no area"},
	{"bow tie", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,1],[1,0],[0,1]]}]", "polygon: edges 0 and 2 cross"},
	{"threshold on no_parking", "camera: c\nzones: [{id: z, kind: no_parking, polygon: [[0,0],[1,0],[1,1]], threshold: 3}]", "threshold applies to crowd zones only, not no_parking"},
	{"dwell on crowd", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0],[1,1]], dwell: 10s}]", "dwell applies to no_parking zones only"},
	{"clear above threshold", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0],[1,1]], threshold: 5, clear: 6}]", "clear: 6: expected below threshold 5"},
	{"negative area", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0],[1,1]], area_m2: -3}]", "area_m2: -3: expected a number ≥ 0"},
	{"negative hold", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0],[1,1]], hold: -5s}]", "hold: -5s: expected 0 to 24h0m0s"},
	{"hold too long", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0],[1,1]], hold: 48h}]", "hold: 48h0m0s: expected 0 to"},
	{"bad duration", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0],[1,1]], hold: soon}]", `invalid duration "soon"`},
	{"duration without unit as text", "camera: c\nzones: [{id: z, kind: crowd, polygon: [[0,0],[1,0],[1,1]], hold: \"30\"}]", `invalid duration "30"`},
	{"smoke_watch classes", "camera: c\nzones: [{id: z, kind: smoke_watch, polygon: [[0,0],[1,0],[1,1]], classes: [smoke]}]", "a smoke_watch zone takes"},
	{"zero direction", "camera: c\nlanes: [{id: l, polygon: [[0,0],[1,0],[1,1]], direction: [0, 0]}]", `lanes[0] "l": direction: [0, 0] has no direction`},
	{"missing direction", "camera: c\nlanes: [{id: l, polygon: [[0,0],[1,0],[1,1]]}]", "direction: [0, 0] has no direction"},
	{"inverted roi", "camera: c\nsignals: [{id: s, roi: [[0.5,0.5],[0.4,0.6]], stop_line: [[0,0.5],[1,0.5]]}]", `signals[0] "s": roi: expected the top-left corner`},
	{"missing stop line", "camera: c\nsignals: [{id: s, roi: [[0.4,0.4],[0.5,0.5]]}]", "stop_line: expected 2 points"},
	{"wrong type", "camera: c\nlines: {id: a}", "cannot unmarshal"},
	{"firesmoke mode", "camera: c\nzones: [{id: z, kind: smoke_watch, polygon: [[0,0],[1,0],[1,1]]}]\nfiresmoke: {mode: photo}", `firesmoke: mode "photo": expected video or stills`},
	{"stills too often", "camera: c\nzones: [{id: z, kind: smoke_watch, polygon: [[0,0],[1,0],[1,1]]}]\nfiresmoke: {mode: stills, interval: 500ms}", "firesmoke: interval: 500ms: expected 1s to 2m0s in stills mode"},
	{"video too slow", "camera: c\nzones: [{id: z, kind: smoke_watch, polygon: [[0,0],[1,0],[1,1]]}]\nfiresmoke: {interval: 10}", "firesmoke: interval: 10s: expected 100ms to 5s in video mode"},
	{"unknown firesmoke key", "camera: c\nfiresmoke: {every: 10s}", `key "every" is not a known key of firesmoke`},
	{"too many vertices", "camera: c\nzones: [{id: z, kind: crowd, polygon: [" + strings.Repeat("[0.5,0.5],", MaxVertices) + "[0.1,0.1]]}]", "points, at most 64"},
}

func TestParseBad(t *testing.T) {
	for _, tc := range badScenes {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
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

func TestValidateReportsEveryProblem(t *testing.T) {
	s := Scene{
		Camera: "c",
		Lines:  []Line{{ID: "a", Points: []Point{{0, 0}, {2, 0}}}},
		Zones:  []Zone{{ID: "z", Kind: "nope", Polygon: Polygon{{0, 0}, {1, 0}, {1, 1}}}},
	}
	err := s.Validate()
	if err == nil {
		t.Fatal("valid")
	}
	for _, want := range []string{`lines[0] "a": points[1]: x 2 is outside 0..1`, `zones[0] "z": kind "nope"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestParseTooManyItems(t *testing.T) {
	var b strings.Builder
	b.WriteString("camera: c\nlines:\n")
	for range MaxItems + 1 {
		b.WriteString("  - {id: x, points: [[0,0],[1,1]]}\n")
	}
	_, err := Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "lines: 257 items, at most 256") {
		t.Fatalf("got %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "gate-1.yaml")
	if err := os.WriteFile(good, []byte(goodScene), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(good); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("camera: c\nfoo: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) || !errors.Is(err, ErrInvalidScene) {
		t.Errorf("bad file: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("camera: c\n#"+strings.Repeat("x", MaxFileSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("big file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || errors.Is(err, ErrInvalidScene) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParse checks that no input panics and that whatever parses also
// validates and survives a write and a re-read.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodScene))
	for _, tc := range badScenes {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidScene) {
				t.Fatalf("error %q does not wrap ErrInvalidScene", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed scene does not validate: %v", err)
		}
		out, err := yaml.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("written scene does not parse: %v\n%s", err, out)
		}
	})
}
