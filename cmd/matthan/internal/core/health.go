package core

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/matthan/matthan/analyzer/health"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
)

// healthPollInterval is how often camera states are compared for changes.
const healthPollInterval = time.Second

// watcher follows every camera's source state and picture health: it
// publishes camera.online / camera.degraded / camera.offline on each change,
// records the first connection in the register, and opens an
// incident with a 24-hour deadline when a camera stays offline, or
// its picture frozen, for incidentAfter.
type watcher struct {
	cameras       []*camera
	node          string
	publish       func(sink.Event)
	store         *store.Store
	incidentAfter time.Duration
	log           *slog.Logger
	reported      map[string]bool // camera + "/" + kind of incidents open for the current fault
	lag           lagWatch
}

// run polls until ctx ends.
func (w *watcher) run(ctx context.Context) {
	last := make([]ingest.State, len(w.cameras))
	downSince := make([]time.Time, len(w.cameras))
	tick := time.NewTicker(healthPollInterval)
	defer tick.Stop()
	w.lag = lagWatch{log: w.log}
	lagAt := time.Now()
	w.observeLag(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		if elapsed := now.Sub(lagAt); elapsed >= lagWindow {
			w.observeLag(elapsed)
			lagAt = now
		}
		for i, c := range w.cameras {
			st := c.source.Status()
			if ev, ok := healthEvent(last[i], st); ok {
				ev.CameraID = c.conf.ID
				ev.SystemID = c.conf.SystemID
				ev.Node = w.node
				w.publish(ev)
				if ev.Type == sink.TypeCameraOnline {
					w.check(ctx, w.store.MarkConnected(ctx, engineActor, c.conf.ID, now))
				}
			}
			last[i] = st.State
			switch {
			case st.State != ingest.StateOffline && st.State != ingest.StateError:
				downSince[i] = time.Time{}
				delete(w.reported, c.conf.ID+"/camera.offline")
			case downSince[i].IsZero():
				downSince[i] = now
			case now.Sub(downSince[i]) >= w.incidentAfter:
				w.incident(ctx, c.conf.ID, "camera.offline", "no stream: "+st.LastError, downSince[i])
			}
			frozen := false
			for _, cond := range c.health.Status().Active {
				if cond.Condition == health.Frozen {
					frozen = true
					if now.Sub(cond.Since) >= w.incidentAfter {
						w.incident(ctx, c.conf.ID, "picture.frozen", cond.Detail, cond.Since)
					}
				}
			}
			if !frozen {
				delete(w.reported, c.conf.ID+"/picture.frozen")
			}
		}
	}
}

// observeLag hands every camera's analysis counters to the lag watch.
func (w *watcher) observeLag(elapsed time.Duration) {
	for _, c := range w.cameras {
		if c.pipeline != nil {
			w.lag.observe(c.conf.ID, c.pipeline.Stats(), elapsed)
		}
	}
}

// incident opens an automatic incident unless one of that kind is open
// for the camera already.
func (w *watcher) incident(ctx context.Context, camera, kind, detail string, since time.Time) {
	if w.reported == nil {
		w.reported = make(map[string]bool)
	}
	if w.reported[camera+"/"+kind] {
		return
	}
	in, opened, err := w.store.OpenIncident(ctx, engineActor, store.Incident{
		CameraID: camera, Kind: kind, Detail: detail, Source: store.SourceAuto, Opened: since,
	})
	w.check(ctx, err)
	w.reported[camera+"/"+kind] = err == nil
	if opened {
		w.log.Warn("incident opened", "camera", camera, "kind", kind, "deadline", in.Deadline)
	}
}

// check logs a failed register update; the camera's events still flow.
func (w *watcher) check(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil {
		w.log.Error("camera register", "error", err)
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
