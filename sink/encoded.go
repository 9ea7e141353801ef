package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// Encoded is an event encoded once, as its JSON, with the fields a writer
// routes it by, so that writers of spooled events neither decode nor
// encode it again.
type Encoded struct {
	// ID, Schema, Type and CameraID are the event's fields of those names.
	ID, Schema, Type, CameraID string
	// JSON is the event as consumers receive it (Event.MarshalJSON). It is
	// shared: writers must not modify it.
	JSON []byte
}

// RawWriter is a Writer that also takes events already encoded. Fanout
// hands the events of a spool to WriteRaw instead of Write, which saves
// decoding them from the spool and encoding them again. WriteRaw has
// Write's contract; the slices it is given are valid until it returns.
type RawWriter interface {
	Writer
	WriteRaw(ctx context.Context, events []Encoded) error
}

// Encode encodes e as Fanout spools it and writers send it: the same bytes
// as json.Marshal(e).
func Encode(e Event) (Encoded, error) {
	b, err := e.MarshalJSON() // json.Marshal(e) would check and compact the same bytes again
	if err != nil {
		return Encoded{}, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return Encoded{ID: e.ID, Schema: e.Schema, Type: e.Type, CameraID: e.CameraID, JSON: b}, nil
}

// The fields parseEncoded reads, in the order Event.MarshalJSON writes
// them: the fields of Event in declaration order, first.
var encodedFields = [...]string{`{"id":`, `,"schema":`, `,"type":`, `,"camera_id":`}

// parseEncoded returns the Encoded of a record Encode wrote, reading only
// the fields it needs from the start of the JSON; the strings share one
// allocation. A record in another layout (written by a former version,
// say) is decoded whole. JSON is b itself.
func parseEncoded(b []byte) (Encoded, error) {
	var vals [len(encodedFields)][2]int // value bounds in b, quotes excluded
	off := 0
	for i, name := range encodedFields {
		end := -1
		if bytes.HasPrefix(b[off:], []byte(name)) && len(b) > off+len(name) && b[off+len(name)] == '"' {
			end = plainString(b, off+len(name)+1)
		}
		if end < 0 {
			return decodeEncoded(b)
		}
		vals[i] = [2]int{off + len(name) + 1, end}
		off = end + 1
	}
	head := string(b[:off])
	s := func(i int) string { return head[vals[i][0]:vals[i][1]] }
	return Encoded{ID: s(0), Schema: s(1), Type: s(2), CameraID: s(3), JSON: b}, nil
}

// plainString returns the offset of the quote that ends the JSON string
// starting at b[from], or -1 when the string has escapes or no end.
func plainString(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i
		case '\\':
			return -1
		}
	}
	return -1
}

// decodeEncoded returns the Encoded of any JSON event, decoding it whole.
func decodeEncoded(b []byte) (Encoded, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Encoded{}, err
	}
	return Encoded{ID: e.ID, Schema: e.Schema, Type: e.Type, CameraID: e.CameraID, JSON: b}, nil
}
