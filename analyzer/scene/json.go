package scene

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The JSON form of a scene, which the HTTP API reads and writes, has the
// same field names as the YAML one; a point is [x, y], a duration a string
// in Go syntax ("10s", "1m30s") or a number of seconds. The four lists are
// always written, empty as [].

// MarshalJSON writes the scene with every list present.
func (s Scene) MarshalJSON() ([]byte, error) {
	type plain Scene // without the method
	p := plain(s)
	if p.Lines == nil {
		p.Lines = []Line{}
	}
	if p.Zones == nil {
		p.Zones = []Zone{}
	}
	if p.Lanes == nil {
		p.Lanes = []Lane{}
	}
	if p.Signals == nil {
		p.Signals = []Signal{}
	}
	return json.Marshal(p)
}

// MarshalJSON writes [x, y].
func (p Point) MarshalJSON() ([]byte, error) {
	if !finite(p.X) || !finite(p.Y) {
		return nil, fmt.Errorf("point [%g, %g]: not a finite number", p.X, p.Y)
	}
	return json.Marshal([2]float64{p.X, p.Y})
}

// UnmarshalJSON reads [x, y].
func (p *Point) UnmarshalJSON(b []byte) error {
	var v []json.Number
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 2 {
		return errors.New("a point is [x, y] with numbers")
	}
	var xy [2]float64
	for i, n := range v {
		f, err := n.Float64()
		if err != nil {
			return errors.New("a point is [x, y] with numbers")
		}
		xy[i] = f
	}
	p.X, p.Y = xy[0], xy[1]
	return nil
}

// MarshalJSON writes Go duration text ("10s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads Go duration text ("10s", "500ms", "2m") or a
// number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err == nil {
		v, err := time.ParseDuration(strings.TrimSpace(text))
		if err != nil {
			return fmt.Errorf("invalid duration %q: expected Go syntax (30s, 500ms, 2m) or seconds as a number", text)
		}
		*d = Duration(v)
		return nil
	}
	s, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err != nil || math.IsNaN(s) || math.IsInf(s, 0) || math.Abs(s) > MaxDuration.Seconds()*10 {
		return fmt.Errorf("invalid duration %s: expected Go syntax (30s, 500ms, 2m) or seconds as a number", bytes.TrimSpace(b))
	}
	*d = Duration(s * float64(time.Second))
	return nil
}

// ParseJSON reads a scene from its JSON form and validates it, with the
// same strictness as Parse: unknown fields, a value of the wrong type, a
// second JSON value and any Validate problem are errors wrapping
// ErrInvalidScene, each naming the item and the field, such as
// `zones[1] "stop": hold: invalid duration "soon"`.
func ParseJSON(data []byte) (Scene, error) {
	var s Scene
	if len(data) > MaxFileSize {
		return s, fmt.Errorf("%w: %d bytes is more than the %d a scene may have", ErrInvalidScene, len(data), MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var top json.RawMessage
	if err := dec.Decode(&top); err != nil {
		if errors.Is(err, io.EOF) {
			return Scene{}, fmt.Errorf("%w: the document is empty", ErrInvalidScene)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return Scene{}, fmt.Errorf("%w: malformed JSON at byte %d", ErrInvalidScene, se.Offset)
		}
		return Scene{}, fmt.Errorf("%w: malformed JSON", ErrInvalidScene)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Scene{}, fmt.Errorf("%w: more than one JSON value", ErrInvalidScene)
	}
	var p problems
	var lists struct {
		Camera  string            `json:"camera"`
		Lines   []json.RawMessage `json:"lines"`
		Zones   []json.RawMessage `json:"zones"`
		Lanes   []json.RawMessage `json:"lanes"`
		Signals []json.RawMessage `json:"signals"`
		// FireSmoke stays raw here so that its problems name it.
		FireSmoke json.RawMessage `json:"firesmoke"`
	}
	if !decodeObject(&p, "", "the scene", top, &lists) {
		return Scene{}, p.err()
	}
	s.Camera = lists.Camera
	for _, l := range []struct {
		name string
		n    int
	}{{"lines", len(lists.Lines)}, {"zones", len(lists.Zones)}, {"lanes", len(lists.Lanes)}, {"signals", len(lists.Signals)}} {
		if l.n > MaxItems {
			p.add("", "%s: %d items, at most %d", l.name, l.n, MaxItems)
		}
	}
	if err := p.err(); err != nil {
		return Scene{}, err
	}
	s.Lines = decodeItems[Line](&p, "lines", lists.Lines)
	s.Zones = decodeItems[Zone](&p, "zones", lists.Zones)
	s.Lanes = decodeItems[Lane](&p, "lanes", lists.Lanes)
	s.Signals = decodeItems[Signal](&p, "signals", lists.Signals)
	if lists.FireSmoke != nil && string(lists.FireSmoke) != "null" {
		s.FireSmoke = new(FireSmoke)
		decodeObject(&p, "firesmoke", "the fire and smoke settings", lists.FireSmoke, s.FireSmoke)
	}
	if err := p.err(); err != nil {
		return Scene{}, err
	}
	if err := s.Validate(); err != nil {
		return Scene{}, err
	}
	return s, nil
}

// decodeItems decodes each item of a list on its own, so that a problem
// names the item.
func decodeItems[T any](p *problems, list string, raws []json.RawMessage) []T {
	if raws == nil {
		return nil
	}
	out := make([]T, len(raws))
	for i, raw := range raws {
		var head struct {
			ID any `json:"id"`
		}
		_ = json.Unmarshal(raw, &head)
		id, _ := head.ID.(string)
		decodeObject(p, item(list, i, id), "an item", raw, &out[i])
	}
	return out
}

// decodeObject decodes the JSON object raw into the struct dst field by
// field, reporting unknown fields and values of the wrong type as problems
// of item it; what is an object. It reports whether raw was an object.
func decodeObject(p *problems, it, what string, raw json.RawMessage, dst any) bool {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		p.add(it, "expected %s as a JSON object", what)
		return false
	}
	v := reflect.ValueOf(dst).Elem()
	byName := make(map[string]int, v.NumField())
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		byName[name] = i
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		i, ok := byName[name]
		if !ok {
			p.add(it, "field %q is not a known field", name)
			continue
		}
		if err := json.Unmarshal(fields[name], v.Field(i).Addr().Interface()); err != nil {
			p.add(it, "%s: %s", name, explainJSON(err))
		}
	}
	return true
}

// explainJSON describes why a field's value did not decode, without
// echoing it.
func explainJSON(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("expected %s, got a JSON %s", jsonType(te.Type.Kind()), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonType names a Go kind as a JSON reader would.
func jsonType(k reflect.Kind) string {
	switch k {
	case reflect.Float64, reflect.Float32, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return k.String()
}
