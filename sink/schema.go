package sink

import _ "embed"

// eventSchemaV1 is the JSON Schema (draft 2020-12) of SchemaVersion.
//
//go:embed schema/event.v1.json
var eventSchemaV1 []byte

// JSONSchema returns the JSON Schema of the events this package produces
// (SchemaVersion), for the API to publish. The caller must not modify it.
func JSONSchema() []byte {
	return eventSchemaV1
}
