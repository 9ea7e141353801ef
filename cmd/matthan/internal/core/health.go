package core

import (
	"context"
	"time"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/sink"
)

// healthPollInterval is how often camera states are compared for changes.
const healthPollInterval = time.Second

// watchCameras publishes camera.offline when a camera's source goes offline
// or into an error state, and camera.online when it delivers again, until
// ctx ends.
func watchCameras(ctx context.Context, cameras []*camera, node string, publish func(sink.Event)) {
	last := make([]ingest.State, len(cameras))
	for i := range last {
		last[i] = ingest.StateConnecting
	}
	tick := time.NewTicker(healthPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i, c := range cameras {
			st := c.source.Status()
			if ev, ok := healthEvent(last[i], st); ok {
				ev.CameraID = c.conf.ID
				ev.SystemID = c.conf.SystemID
				ev.Node = node
				publish(ev)
			}
			last[i] = st.State
		}
	}
}

// healthEvent is the event, if any, for a camera moving from prev to the
// state in st. Offline and error count as one condition: a camera that goes
// from offline to error (or back) raises no new event.
func healthEvent(prev ingest.State, st ingest.Status) (sink.Event, bool) {
	down := func(s ingest.State) bool { return s == ingest.StateOffline || s == ingest.StateError }
	switch {
	case st.State == ingest.StateOnline && prev != ingest.StateOnline:
		return sink.NewEvent(sink.TypeCameraOnline, "", time.Now()), true
	case down(st.State) && !down(prev):
		ev := sink.NewEvent(sink.TypeCameraOffline, "", time.Now())
		ev.Detail = st.LastError
		return ev, true
	}
	return sink.Event{}, false
}
