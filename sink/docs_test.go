package sink

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"
)

// TestDocsExamplesMatchSchema checks the examples of docs/events.md against
// the schema and Event, so that the documented contract stays true.
func TestDocsExamplesMatchSchema(t *testing.T) {
	doc, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)### `([a-z._]+)`.*?```json\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 3 {
		t.Fatalf("found %d examples in docs/events.md, want at least detection.summary, camera.online, camera.offline", len(blocks))
	}
	for _, b := range blocks {
		typ, example := string(b[1]), b[2]
		t.Run(typ, func(t *testing.T) {
			var v map[string]any
			if err := json.Unmarshal(example, &v); err != nil {
				t.Fatalf("example is not JSON: %v", err)
			}
			if errs := checkSchema(v, schema, "$"); len(errs) > 0 {
				t.Errorf("example breaks the schema: %v", errs)
			}
			var e Event
			if err := json.Unmarshal(example, &e); err != nil {
				t.Fatal(err)
			}
			if err := e.Validate(); err != nil {
				t.Error(err)
			}
			if e.Type != typ {
				t.Errorf("example under %s has type %s", typ, e.Type)
			}
			// The example is what the code writes: same fields, same values.
			again, _ := json.Marshal(e)
			var w map[string]any
			json.Unmarshal(again, &w)
			if a, b := mustJSON(v), mustJSON(w); a != b {
				t.Errorf("example differs from the event's own JSON:\n doc %s\ncode %s", a, b)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v) // maps marshal with sorted keys
	return string(b)
}
