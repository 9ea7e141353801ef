// Package scene describes what one camera looks at, for the rules that turn
// tracks into events: counting lines, zones (crowd, no-parking, restricted,
// smoke-watch, ignore), traffic lanes with their direction, and signal heads
// with their stop lines.
//
// A scene is a small YAML file per camera. Coordinates are normalised to the
// frame: x to the right, y down, both 0..1, so a scene survives a change of
// stream resolution. Directions of travel follow the screen:
//
//	camera: gate-1
//	lines:
//	  - id: north
//	    points: [[0.10, 0.60], [0.90, 0.60]]   # A → B
//	    classes: [car, truck, bus, motorcycle]
//	zones:
//	  - id: plaza
//	    kind: crowd
//	    polygon: [[0.2, 0.2], [0.8, 0.2], [0.8, 0.9], [0.2, 0.9]]
//	    area_m2: 450      # optional: the alert is then on people per m²
//	    threshold: 1.5    # people (or people per m² with area_m2)
//	    clear: 1.0        # optional; defaults to 0.8 × threshold
//	    hold: 30s         # seconds as a number (30) or Go syntax (30s, 1m)
//	  - id: bus-stop
//	    kind: no_parking
//	    polygon: [[0.6, 0.5], [0.9, 0.5], [0.9, 0.7], [0.6, 0.7]]
//	    dwell: 2m
//	lanes:
//	  - id: southbound
//	    polygon: [[0.1, 0.3], [0.5, 0.3], [0.5, 1.0], [0.1, 1.0]]
//	    direction: [0, 1]   # down the screen
//	    classes: [car, motorcycle]
//	signals:
//	  - id: main-st
//	    roi: [[0.45, 0.05], [0.48, 0.15]]       # the signal head's box
//	    stop_line: [[0.1, 0.55], [0.9, 0.55]]
//
// Counting-line directions, looking along the line from its first point A to
// its second point B (y down, as on the screen):
//
//	      left of A→B  (Side < 0)
//	A ─────────────────────────► B        crossing left → right is "in",
//	      right of A→B (Side > 0)          right → left is "out".
//
// For the line above, drawn left to right across the picture, "in" is
// moving down the screen (towards the camera on a typical mounting).
//
// Parsing is strict: unknown keys, a second YAML document and malformed
// values are errors, and Validate names the item and the field of every
// problem, such as `lines[2] "north": points[1]: x 1.3 is outside 0..1`.
// A scene file is untrusted input: its size, the number of items and the
// vertices of a polygon are bounded (see the Max constants).
//
// The HTTP API reads and writes scenes as JSON with the same field names
// (ParseJSON, and the types' MarshalJSON): points as [x, y], durations as
// Go text ("10s") or a number of seconds, the four lists always present.
// ParseJSON is as strict as Parse and names the item and field of every
// problem, such as `zones[1] "stop": dwell: invalid duration "soon"`.
package scene
