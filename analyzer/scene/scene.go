package scene

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits on a scene file, which is untrusted input. Every rule walks every
// item on every analysed frame, so the bounds also bound the per-frame cost.
const (
	// MaxFileSize is the largest scene file Load reads: a hand-written scene
	// is a few kilobytes.
	MaxFileSize = 1 << 20
	// MaxItems is the most lines, zones, lanes or signals of each kind.
	MaxItems = 256
	// MaxVertices is the most vertices of a polygon: a zone drawn by hand
	// on a picture needs a dozen.
	MaxVertices = 64
	// MaxClasses is the most classes an item may list.
	MaxClasses = 32
	// MaxDuration is the longest hold or dwell time: longer is a mistake in
	// the file (a typo of units), not a wish.
	MaxDuration = 24 * time.Hour
	// minLength is the shortest segment and the smallest polygon extent,
	// in normalised units (about 2 pixels of a 1920-pixel frame): below it
	// sides and insides are decided by noise.
	minLength = 1e-3
)

// Scene is the per-camera description the rules work on. The zero value is
// an empty scene; use Parse or Load to read one, which also validates it.
type Scene struct {
	// Camera is the id of the camera the scene belongs to.
	Camera string `yaml:"camera" json:"camera"`
	// Lines are the counting lines.
	Lines []Line `yaml:"lines,omitempty" json:"lines"`
	// Zones are the areas watched by the zone rules.
	Zones []Zone `yaml:"zones,omitempty" json:"zones"`
	// Lanes are the traffic lanes with their direction of travel.
	Lanes []Lane `yaml:"lanes,omitempty" json:"lanes"`
	// Signals are the signal heads with the stop lines they control.
	Signals []Signal `yaml:"signals,omitempty" json:"signals"`
	// FireSmoke sets how the fire and smoke analysis samples the camera
	// when the scene has smoke_watch zones; nil takes the video mode's
	// defaults.
	FireSmoke *FireSmoke `yaml:"firesmoke,omitempty" json:"firesmoke,omitempty"`
}

// FireSmoke is how the fire and smoke analysis of a camera samples it.
type FireSmoke struct {
	// Mode is "video" (the default) or "stills".
	Mode FireSmokeMode `yaml:"mode,omitempty" json:"mode,omitempty"`
	// Interval is the capture time between two analysed frames: 0.5 s by
	// default in video mode, 10 s in stills mode.
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
}

// FireSmokeMode is how fire and smoke frames are taken.
type FireSmokeMode string

// Fire and smoke modes.
const (
	// FireSmokeVideo analyses frames at a video rate, each whole, scaled
	// to the model's input.
	FireSmokeVideo FireSmokeMode = "video"
	// FireSmokeStills analyses one full-resolution frame every Interval,
	// whole and, when it is much larger than the model's input, in
	// overlapping tiles: for forest cameras, where a distant plume is a
	// few dozen pixels of a large frame and changes over minutes.
	FireSmokeStills FireSmokeMode = "stills"
)

// Limits of FireSmoke.Interval by mode: the rule's temporal evidence needs
// several samples within minutes.
const (
	MinVideoInterval  = 100 * time.Millisecond
	MaxVideoInterval  = 5 * time.Second
	MinStillsInterval = time.Second
	MaxStillsInterval = 2 * time.Minute
)

// Line is a counting line. Crossing it from the left of A→B to the right is
// direction "in", the other way "out" (see the package documentation).
type Line struct {
	// ID names the line in events.
	ID string `yaml:"id" json:"id"`
	// Points are the line's two end points, A then B.
	Points []Point `yaml:"points" json:"points"`
	// Classes are the classes counted; empty counts every class.
	Classes []string `yaml:"classes,omitempty" json:"classes,omitempty"`
	// Anchor is the point of an object's box that crosses the line: empty
	// (the default) takes the feet of a person and the centre of anything
	// else, which is where a person watching says a pedestrian or a vehicle
	// crossed; "center" and "bottom" (the middle of the box's bottom edge)
	// take that point for every class.
	Anchor Anchor `yaml:"anchor,omitempty" json:"anchor,omitempty"`
}

// Segment returns the line as a segment from A to B. The line must be valid.
func (l Line) Segment() Segment { return Segment{A: l.Points[0], B: l.Points[1]} }

// Anchor names the point of a box that a counting line tests.
type Anchor string

// Anchors of a counting line.
const (
	// AnchorAuto takes BottomCentre for people and Centre for the rest.
	AnchorAuto Anchor = ""
	// AnchorCenter takes the centre of the box.
	AnchorCenter Anchor = "center"
	// AnchorBottom takes the middle of the box's bottom edge.
	AnchorBottom Anchor = "bottom"
)

// Point returns the anchor point of a box (x1, y1, x2, y2) of class.
func (a Anchor) Point(box [4]float32, class string) Point {
	if a == AnchorBottom || (a == AnchorAuto && class == "person") {
		return BottomCentre(box)
	}
	return Centre(box)
}

// ZoneKind is what a zone is watched for.
type ZoneKind string

// Zone kinds.
const (
	// ZoneCrowd counts the people inside and alerts above a threshold.
	ZoneCrowd ZoneKind = "crowd"
	// ZoneNoParking flags vehicles staying longer than the dwell time.
	ZoneNoParking ZoneKind = "no_parking"
	// ZoneRestricted flags objects of the listed classes inside.
	ZoneRestricted ZoneKind = "restricted"
	// ZoneSmokeWatch is where smoke and fire detections are considered.
	ZoneSmokeWatch ZoneKind = "smoke_watch"
	// ZoneIgnore is where detections are dropped (a billboard, a flag, a
	// road outside the camera's remit).
	ZoneIgnore ZoneKind = "ignore"
)

var zoneKinds = []ZoneKind{ZoneCrowd, ZoneNoParking, ZoneRestricted, ZoneSmokeWatch, ZoneIgnore}

// Zone is a polygon watched for one kind of rule.
type Zone struct {
	// ID names the zone in events.
	ID string `yaml:"id" json:"id"`
	// Kind is what the zone is watched for.
	Kind ZoneKind `yaml:"kind" json:"kind"`
	// Polygon is the zone's outline; an object is inside when the bottom
	// centre of its box is.
	Polygon Polygon `yaml:"polygon" json:"polygon"`
	// Classes are the classes the zone concerns: for a crowd zone the
	// classes counted (defaults to person), for no_parking and restricted
	// the classes flagged (defaults to every class), for ignore the classes
	// dropped (defaults to every class).
	Classes []string `yaml:"classes,omitempty" json:"classes,omitempty"`
	// AreaM2 is the ground area of a crowd zone in square metres; when set
	// the crowd rule works on people per m² instead of people.
	AreaM2 float64 `yaml:"area_m2,omitempty" json:"area_m2,omitempty"`
	// Threshold is the crowd level (people, or people per m² with AreaM2)
	// that raises an alert; zero means count only.
	Threshold float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// Clear is the crowd level the zone must fall to before the alert
	// clears; below Threshold. Zero means 0.8 × Threshold.
	Clear float64 `yaml:"clear,omitempty" json:"clear,omitempty"`
	// Hold is how long a crowd level must last before the alert is raised
	// or cleared. Zero means the crowd rule's default.
	Hold Duration `yaml:"hold,omitempty" json:"hold,omitempty"`
	// Dwell is how long a vehicle may stay in a no-parking zone. Zero means
	// the parking rule's default.
	Dwell Duration `yaml:"dwell,omitempty" json:"dwell,omitempty"`
}

// Lane is a traffic lane with its direction of travel.
type Lane struct {
	// ID names the lane in events.
	ID string `yaml:"id" json:"id"`
	// Polygon is the lane's outline on the picture.
	Polygon Polygon `yaml:"polygon" json:"polygon"`
	// Direction is the direction of travel on the screen, [dx, dy] (any
	// length but zero).
	Direction Point `yaml:"direction" json:"direction"`
	// Classes are the classes allowed in the lane; empty allows every class.
	Classes []string `yaml:"classes,omitempty" json:"classes,omitempty"`
}

// Signal is a traffic signal head and the stop line it controls.
type Signal struct {
	// ID names the signal in events.
	ID string `yaml:"id" json:"id"`
	// ROI is the box around the signal head: two opposite corners, top-left
	// then bottom-right.
	ROI []Point `yaml:"roi" json:"roi"`
	// StopLine is the stop line's two end points; crossing it left to right
	// of A→B (as a counting line's "in") is entering the junction.
	StopLine []Point `yaml:"stop_line" json:"stop_line"`
}

// Rect returns the ROI's corners. The signal must be valid.
func (s Signal) Rect() (lo, hi Point) { return s.ROI[0], s.ROI[1] }

// Stop returns the stop line as a segment. The signal must be valid.
func (s Signal) Stop() Segment { return Segment{A: s.StopLine[0], B: s.StopLine[1]} }

// Duration is a time span written in seconds (30, 2.5) or Go syntax (30s,
// 500ms, 2m).
type Duration time.Duration

// D returns the span as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads seconds or Go duration text.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration is seconds (30) or Go syntax (30s)", n.Line)
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		s, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsNaN(s) || math.IsInf(s, 0) || math.Abs(s) > MaxDuration.Seconds()*10 {
			return fmt.Errorf("line %d: invalid duration %q: expected seconds or Go syntax", n.Line, n.Value)
		}
		*d = Duration(s * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q: expected seconds (30) or Go syntax (30s, 500ms, 2m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes Go duration text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Parse reads a scene from YAML and validates it. Unknown keys, a second
// document and any Validate problem are errors wrapping ErrInvalidScene.
func Parse(data []byte) (Scene, error) {
	var s Scene
	if len(data) > MaxFileSize {
		return s, fmt.Errorf("%w: %d bytes is more than the %d a scene may have", ErrInvalidScene, len(data), MaxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return Scene{}, fmt.Errorf("%w: the file is empty", ErrInvalidScene)
		}
		return Scene{}, fmt.Errorf("%w: %s", ErrInvalidScene, explainYAML(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Scene{}, fmt.Errorf("%w: more than one YAML document", ErrInvalidScene)
	}
	if err := s.Validate(); err != nil {
		return Scene{}, err
	}
	return s, nil
}

// Load reads and parses the scene file at path.
func Load(path string) (Scene, error) {
	f, err := os.Open(path)
	if err != nil {
		return Scene{}, fmt.Errorf("read scene: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Scene{}, fmt.Errorf("read scene: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return Scene{}, fmt.Errorf("scene %s: %w", path, err)
	}
	return s, nil
}

// explainYAML shortens the YAML decoder's messages and names unknown keys
// as such.
func explainYAML(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			if k, rest, ok := strings.Cut(m, "field "); ok {
				if name, typ, ok := strings.Cut(rest, " not found in type scene."); ok {
					m = k + "key " + strconv.Quote(name) + " is not a known key of " + strings.ToLower(typ)
				}
			}
			msgs[i] = m
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
