package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/matthan/matthan/sink/spool"
)

// encodedCases are events whose encoding parseEncoded must read back.
func encodedCases() map[string]Event {
	cases := sampleEvents()
	odd := NewEvent(TypeAlertCrowd, `cam "north" <gate> & \ 2`, captured)
	odd.Detail = "crowd\u2028zone <a> \xff"
	cases["escapes in camera_id"] = odd
	plain := NewEvent(TypeTrafficCount, "cam-ẞ-01", captured) // UTF-8, no escapes
	plain.Measures = map[string]float64{"in": 3, "interval_s": 60}
	cases["non-ASCII camera_id"] = plain
	return cases
}

func TestEncodeParseEncoded(t *testing.T) {
	for name, e := range encodedCases() {
		t.Run(name, func(t *testing.T) {
			enc, err := Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc.JSON, want) {
				t.Errorf("Encode JSON\n%s\nwant json.Marshal's\n%s", enc.JSON, want)
			}
			got, err := parseEncoded(enc.JSON)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != e.ID || got.Schema != e.Schema || got.Type != e.Type || got.CameraID != e.CameraID || !bytes.Equal(got.JSON, want) {
				t.Errorf("parseEncoded = %+v, want the fields of %+v", got, e)
			}
		})
	}
}

// TestParseEncodedFastPath guards the layout parseEncoded reads without
// decoding: a change of Event's first fields must change encodedFields.
func TestParseEncodedFastPath(t *testing.T) {
	e := numbered(7)
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { parseEncoded(b) }); n > 1 {
		t.Errorf("parseEncoded allocates %v times per record, want 1 (it decodes the event whole)", n)
	}
}

func TestParseEncodedOtherLayouts(t *testing.T) {
	tests := []struct {
		name    string
		rec     string
		want    Encoded
		wantErr bool
	}{
		{name: "fields in another order",
			rec:  `{"type":"camera.online","camera_id":"c1","schema":"matthan.event/v1","id":"0190c5a0-0000-7000-8000-000000000001","ts":"2025-01-01T00:00:00.000Z","node":""}`,
			want: Encoded{ID: "0190c5a0-0000-7000-8000-000000000001", Schema: "matthan.event/v1", Type: "camera.online", CameraID: "c1"}},
		{name: "spaces", rec: `{"id": "x", "schema": "s", "type": "t", "camera_id": "c", "ts": "2025-01-01T00:00:00.000Z"}`,
			want: Encoded{ID: "x", Schema: "s", Type: "t", CameraID: "c"}},
		{name: "cut short", rec: `{"id":"x","schema":"s","ty`, wantErr: true},
		{name: "not JSON", rec: `garbage`, wantErr: true},
		{name: "empty", rec: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEncoded([]byte(tt.rec))
			if tt.wantErr {
				if err == nil {
					t.Errorf("parseEncoded(%q) = %+v, want an error", tt.rec, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.JSON = []byte(tt.rec)
			if got.ID != tt.want.ID || got.Schema != tt.want.Schema || got.Type != tt.want.Type || got.CameraID != tt.want.CameraID || !bytes.Equal(got.JSON, tt.want.JSON) {
				t.Errorf("parseEncoded = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// rawRecorder is a RawWriter that records the encoded events it was given.
type rawRecorder struct {
	recorder
	rawMu sync.Mutex
	raw   []Encoded
}

func (r *rawRecorder) WriteRaw(ctx context.Context, events []Encoded) error {
	r.rawMu.Lock()
	defer r.rawMu.Unlock()
	for _, e := range events {
		e.JSON = slices.Clone(e.JSON)
		r.raw = append(r.raw, e)
	}
	return nil
}

// TestFanoutSpoolRawWriter: a RawWriter gets each event's JSON as
// json.Marshal encodes it, from Publish or from a spool a former run left,
// and never Write; a plain Writer next to it gets the events decoded.
func TestFanoutSpoolRawWriter(t *testing.T) {
	dir := t.TempDir()
	var events []Event
	for _, e := range encodedCases() {
		events = append(events, e)
	}
	// A former run left the first event in the raw writer's spool.
	sp, err := spool.Open(filepath.Join(dir, "raw"), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	left := numbered(1)
	b, _ := json.Marshal(left)
	if err := sp.Append(b); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		raw := &rawRecorder{recorder: recorder{name: "raw"}}
		plain := &recorder{name: "plain"}
		f := &Fanout{Sinks: []Writer{raw, plain}, SpoolDir: dir}
		stop := startFanout(t, f)
		for _, e := range events {
			if err := f.Publish(e); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second)
		synctest.Wait()
		stop()
		if n := len(raw.written()); n != 0 {
			t.Errorf("the RawWriter's Write got %d events, want 0", n)
		}
		want := append([]Event{left}, events...)
		if len(raw.raw) != len(want) {
			t.Fatalf("WriteRaw got %d events, want %d", len(raw.raw), len(want))
		}
		for i, e := range want {
			b, _ := json.Marshal(e)
			got := raw.raw[i]
			if got.ID != e.ID || got.Schema != e.Schema || got.Type != e.Type || got.CameraID != e.CameraID || !bytes.Equal(got.JSON, b) {
				t.Errorf("WriteRaw event %d = %+v %s, want %+v %s", i, got, got.JSON, e, b)
			}
		}
		if got := plain.written(); !slices.Equal(got, cameras(events)) {
			t.Errorf("the plain Writer got %v, want %v", got, cameras(events))
		}
	})
}
