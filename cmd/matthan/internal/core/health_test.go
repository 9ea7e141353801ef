package core

import (
	"testing"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/sink"
)

func TestHealthEvent(t *testing.T) {
	cases := []struct {
		name       string
		prev, now  ingest.State
		wantType   string
		wantDetail string
	}{
		{"first connection", ingest.StateConnecting, ingest.StateOnline, sink.TypeCameraOnline, ""},
		{"never reached", ingest.StateConnecting, ingest.StateOffline, sink.TypeCameraOffline, "connection refused"},
		{"lost", ingest.StateOnline, ingest.StateOffline, sink.TypeCameraOffline, "connection refused"},
		{"refused credentials", ingest.StateOnline, ingest.StateError, sink.TypeCameraOffline, "connection refused"},
		{"back", ingest.StateOffline, ingest.StateOnline, sink.TypeCameraOnline, ""},
		{"still online", ingest.StateOnline, ingest.StateOnline, "", ""},
		{"still down", ingest.StateOffline, ingest.StateError, "", ""},
		{"retrying", ingest.StateOffline, ingest.StateConnecting, "", ""},
		{"degraded", ingest.StateOnline, ingest.StateDegraded, sink.TypeCameraDegraded, "frame rate low"},
		{"healthy again", ingest.StateDegraded, ingest.StateOnline, sink.TypeCameraOnline, "the stream is healthy again"},
		{"degraded at first", ingest.StateConnecting, ingest.StateDegraded, sink.TypeCameraOnline, ""},
		{"lost while degraded", ingest.StateDegraded, ingest.StateOffline, sink.TypeCameraOffline, "connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok := healthEvent(tc.prev, ingest.Status{State: tc.now, LastError: "connection refused", Degraded: "frame rate low"})
			if tc.wantType == "" {
				if ok {
					t.Fatalf("got %s, want no event", ev.Type)
				}
				return
			}
			if !ok || ev.Type != tc.wantType || ev.Detail != tc.wantDetail {
				t.Fatalf("got %v %q %q, want %s %q", ok, ev.Type, ev.Detail, tc.wantType, tc.wantDetail)
			}
		})
	}
}
