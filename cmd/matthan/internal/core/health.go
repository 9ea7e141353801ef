package core

import (
	"context"
	"fmt"
	"time"

	"github.com/matthan/matthan/analyzer/health"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
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
// state in st. Offline and error count as one condition (a camera that goes
// from offline to error, or back, raises no new event); so do online and
// degraded for the camera being up.
func healthEvent(prev ingest.State, st ingest.Status) (sink.Event, bool) {
	down := func(s ingest.State) bool { return s == ingest.StateOffline || s == ingest.StateError }
	up := func(s ingest.State) bool { return s == ingest.StateOnline || s == ingest.StateDegraded }
	now := st.State
	switch {
	case up(now) && !up(prev):
		return sink.NewEvent(sink.TypeCameraOnline, "", time.Now()), true
	case now == ingest.StateDegraded && prev == ingest.StateOnline:
		ev := sink.NewEvent(sink.TypeCameraDegraded, "", time.Now())
		ev.Detail = st.Degraded
		return ev, true
	case now == ingest.StateOnline && prev == ingest.StateDegraded:
		ev := sink.NewEvent(sink.TypeCameraOnline, "", time.Now())
		ev.Detail = "the stream is healthy again"
		return ev, true
	case down(now) && !down(prev):
		ev := sink.NewEvent(sink.TypeCameraOffline, "", time.Now())
		ev.Detail = st.LastError
		return ev, true
	}
	return sink.Event{}, false
}

// gapEvent reports an interval without recording: ts is the start
// of the gap, the detail gives its cause and end.
func gapEvent(g record.Gap, node string) sink.Event {
	ev := sink.NewEvent(sink.TypeRecordingGap, g.Camera, g.Start)
	ev.Node = node
	ev.Measures = map[string]float64{
		"duration_s":               g.Duration().Seconds(),
		clickhouse.MeasureGapStart: float64(g.Start.UnixMilli()),
		clickhouse.MeasureGapEnd:   float64(g.End.UnixMilli()),
	}
	ev.Detail = fmt.Sprintf("no recording from %s to %s (cause: %s)",
		g.Start.UTC().Format(time.RFC3339Nano), g.End.UTC().Format(time.RFC3339Nano), g.Cause)
	return ev
}

// incidentEvent reports a storage incident (disk full or failing, or a size
// cap that would need deleting recordings younger than 30 days).
func incidentEvent(in record.Incident, node string) sink.Event {
	typ := sink.TypeRecordingIncident
	if in.Resolved {
		typ = sink.TypeRecordingResolved
	}
	camera := in.Camera
	if camera == "" {
		camera = "*" // a limit on all cameras together
	}
	ev := sink.NewEvent(typ, camera, in.Time)
	ev.Node = node
	ev.Detail = in.Kind + ": " + in.Message
	return ev
}

// pictureEvent reports a change of picture health: camera.frozen, or
// camera.tampered (covered, defocused, moved), with measure active = 1 when
// the condition starts and 0 when it clears. ts is the frame that proved it.
func pictureEvent(ch health.Change, system, node string) sink.Event {
	typ := sink.TypeCameraFrozen
	if ch.Condition.Tamper() {
		typ = sink.TypeCameraTampered
	}
	ev := sink.NewEvent(typ, ch.Camera, ch.At)
	ev.SystemID = system
	ev.Node = node
	active := 0.0
	if ch.Active {
		active = 1
	}
	ev.Measures = map[string]float64{"active": active, "since_unix_ms": float64(ch.Since.UnixMilli())}
	ev.Detail = ch.Condition.String()
	if ch.Detail != "" {
		ev.Detail += ": " + ch.Detail
	}
	return ev
}
