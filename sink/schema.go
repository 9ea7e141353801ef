package sink

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// eventSchemaV1 is the JSON Schema (draft 2020-12) of SchemaVersion.
//
//go:embed schema/event.v1.json
var eventSchemaV1 []byte

// JSONSchema returns the JSON Schema of the events this package produces
// (SchemaVersion), for the API to publish. The caller must not modify it.
func JSONSchema() []byte {
	return eventSchemaV1
}

// parsedSchema is eventSchemaV1 decoded once.
var parsedSchema = sync.OnceValues(func() (map[string]any, error) {
	var s map[string]any
	err := json.Unmarshal(eventSchemaV1, &s)
	return s, err
})

// ValidateJSON checks one event's JSON against the v1 schema and returns an
// error wrapping ErrInvalidEvent that names every fault by its path (for
// contract tests and for consumers that want to check what they receive).
func ValidateJSON(b []byte) error {
	schema, err := parsedSchema()
	if err != nil {
		return fmt.Errorf("event schema: %w", err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%w: not JSON: %v", ErrInvalidEvent, err)
	}
	if faults := checkSchema(doc, schema, "$"); len(faults) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidEvent, strings.Join(faults, "; "))
	}
	return nil
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
		fail("schema type %v not handled", s["type"])
	}
	return errs
}

func asSlice(v any) []any {
	a, _ := v.([]any)
	return a
}
