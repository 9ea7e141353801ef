package record

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// MinRetention is the shortest time recordings may be kept: 30 days
// (regulation ). No retention rule deletes a recording younger.
const MinRetention = 30 * 24 * time.Hour

// RetentionLogFile is the log of the segments retention deleted, in
// <Root>/<CameraID>: one JSON line per segment, written before it goes.
const RetentionLogFile = "retention.jsonl"

// defaultSweepInterval is how often Retention sweeps: deleting late by a
// few minutes costs a few minutes of disk.
const defaultSweepInterval = 10 * time.Minute

// Retention rules, as Deletion.Rule records them.
const (
	RuleAge        = "age"         // older than MaxAge
	RuleCameraSize = "camera_size" // the camera's recordings were over CameraMaxBytes
	RuleTotalSize  = "total_size"  // all recordings were over TotalMaxBytes
)

// Retention deletes recordings under Root when the retention rules say so:
// by age (MaxAge) and by size, per camera and in total, oldest first. Size
// caps never delete a recording younger than MinRetention: when a cap
// cannot be met without, Retention raises an IncidentStorage and stops
// there. Segments overlapping a legal hold are never deleted.
//
// Set the fields, then call Run in one goroutine; Hold, Release, Holds and
// Sweep are safe to call from any goroutine, before and during Run.
type Retention struct {
	// Root is the recordings directory, as Recorder.Root. Required.
	Root string
	// MaxAge is how long recordings are kept: a segment whose end is older
	// is deleted. Defaults to MinRetention (30 days); shorter is refused
	// (ErrRetentionTooShort, R-11.3).
	MaxAge time.Duration
	// CameraMaxBytes caps the size of one camera's recordings; 0 is no cap.
	CameraMaxBytes int64
	// TotalMaxBytes caps the size of all recordings; 0 is no cap.
	TotalMaxBytes int64
	// Interval is the time between sweeps. Defaults to 10 minutes.
	Interval time.Duration
	// Now is the clock that ages recordings. Defaults to time.Now.
	Now func() time.Time
	// OnIncident, when set, is called when a size cap cannot be met
	// (IncidentStorage) and, Resolved, when it is met again. It is called
	// from the sweeping goroutine and must return quickly.
	OnIncident func(Incident)
	// Audit, when set, is called after a legal hold is placed (AuditHold)
	// or released (AuditRelease) with its details (id, camera, from, to,
	// reason, by). It is called from the caller's goroutine.
	Audit func(action string, details map[string]string)
	// Logger receives what retention deletes and refuses; nil discards.
	Logger *slog.Logger
	// Metrics counts deletions and incidents; nil counts nothing.
	Metrics *Metrics

	// mu serialises sweeps and hold changes, so that a hold placed during
	// a sweep takes effect before anything it covers is deleted.
	mu      sync.Mutex
	overCap map[string]bool // scopes with an open storage incident: a camera, or "" for the total
}

// Deletion is a segment retention deleted, as RetentionLogFile records it.
type Deletion struct {
	Segment Segment   // the index record of the deleted segment
	Rule    string    // RuleAge, RuleCameraSize or RuleTotalSize
	At      time.Time // when it was deleted
}

// deletionJSON is a line of RetentionLogFile.
type deletionJSON struct {
	Segment Segment `json:"segment"`
	Rule    string  `json:"rule"`
	At      string  `json:"at"`
}

// Validate checks the fields; its errors name the field.
func (r *Retention) Validate() error {
	switch {
	case r.Root == "":
		return fmt.Errorf("%w: Root is empty, want the recordings directory", ErrInvalidConfig)
	case r.MaxAge != 0 && r.MaxAge < MinRetention:
		return fmt.Errorf("%w: MaxAge %v is shorter than 30 days: recordings must be kept at least 30 days (regulation R-11.3)",
			ErrRetentionTooShort, r.MaxAge)
	case r.CameraMaxBytes < 0:
		return fmt.Errorf("%w: CameraMaxBytes %d is negative", ErrInvalidConfig, r.CameraMaxBytes)
	case r.TotalMaxBytes < 0:
		return fmt.Errorf("%w: TotalMaxBytes %d is negative", ErrInvalidConfig, r.TotalMaxBytes)
	case r.Interval < 0:
		return fmt.Errorf("%w: Interval %v is negative", ErrInvalidConfig, r.Interval)
	}
	return nil
}

// Run sweeps at once and then every Interval until ctx ends, and returns
// nil then. A failed sweep is logged and tried again at the next tick. It
// returns an error at once when a field is unusable (Validate).
func (r *Retention) Run(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	t := time.NewTicker(orDefault(r.Interval, defaultSweepInterval))
	defer t.Stop()
	for {
		if _, err := r.Sweep(); err != nil {
			r.logger().Error("retention sweep failed; retrying at the next one", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep applies the retention rules once and returns what it deleted.
// Every deletion is logged to the camera's RetentionLogFile before the
// segment leaves the index (rewritten atomically) and the disk.
func (r *Retention) Sweep() ([]Deletion, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	holds, err := r.readHolds()
	if err != nil {
		return nil, fmt.Errorf("retention: holds: %w", err)
	}
	cams, err := r.cameras()
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	type item struct {
		cam string
		seg Segment
	}
	var (
		all     []item
		plan    = map[string]map[string]string{} // camera → path → rule
		oldEnd  = now.Add(-orDefault(r.MaxAge, MinRetention))
		youngAt = now.Add(-MinRetention) // a segment ending after this is younger than 30 days
		held    = func(it item) bool {
			return slices.ContainsFunc(holds, func(h Hold) bool { return h.covers(it.cam, it.seg.Start, it.seg.End) })
		}
		mark = func(it item, rule string) {
			if plan[it.cam] == nil {
				plan[it.cam] = map[string]string{}
			}
			plan[it.cam][it.seg.Path] = rule
		}
		planned = func(it item) bool { _, ok := plan[it.cam][it.seg.Path]; return ok }
	)
	var errs []error
	for _, cam := range cams {
		segs, err := ReadIndex(r.Root, cam)
		if err != nil {
			errs = append(errs, err) // the other cameras are still swept
			continue
		}
		for _, s := range segs {
			all = append(all, item{cam, s})
		}
	}
	slices.SortStableFunc(all, func(a, b item) int { return a.seg.Start.Compare(b.seg.Start) })

	for _, it := range all {
		if !it.seg.End.After(oldEnd) && !held(it) {
			mark(it, RuleAge)
		}
	}
	// capTo deletes the oldest unheld segments of items until their size is
	// within limit, but none younger than MinRetention.
	capTo := func(scope string, items []item, limit int64, rule string) {
		var size int64
		for _, it := range items {
			if !planned(it) {
				size += it.seg.Size
			}
		}
		for _, it := range items {
			if size <= limit {
				break
			}
			if planned(it) || held(it) {
				continue
			}
			if it.seg.End.After(youngAt) {
				r.raise(scope, size, limit, it.seg, now)
				return
			}
			mark(it, rule)
			size -= it.seg.Size
		}
		if size <= limit {
			r.clear(scope, size, limit, now)
		}
	}
	if r.CameraMaxBytes > 0 {
		for _, cam := range cams {
			var items []item
			for _, it := range all {
				if it.cam == cam {
					items = append(items, it)
				}
			}
			capTo(cam, items, r.CameraMaxBytes, RuleCameraSize)
		}
	}
	if r.TotalMaxBytes > 0 {
		capTo("", all, r.TotalMaxBytes, RuleTotalSize)
	}

	var done []Deletion
	for _, cam := range cams {
		if len(plan[cam]) == 0 {
			continue
		}
		d, err := r.delete(cam, plan[cam], now)
		done = append(done, d...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return done, fmt.Errorf("retention: %w", err)
	}
	return done, nil
}

// delete removes the planned segments of cam (path → rule): it logs them,
// takes them out of the index, then removes the files and emptied day
// folders. A crash in between leaves files the recorder's recovery
// recognises from the log and removes.
func (r *Retention) delete(cam string, plan map[string]string, now time.Time) ([]Deletion, error) {
	camDir := filepath.Join(r.Root, cam)
	var (
		dels  []Deletion
		lines []byte
	)
	segs, err := ReadIndex(r.Root, cam)
	if err != nil {
		return nil, err
	}
	for _, s := range segs {
		rule, ok := plan[s.Path]
		if !ok {
			continue
		}
		d := Deletion{Segment: s, Rule: rule, At: now.UTC()}
		b, err := json.Marshal(deletionJSON{Segment: s, Rule: rule, At: d.At.Format(indexTimeLayout)})
		if err != nil {
			return nil, err
		}
		lines = append(append(lines, b...), '\n')
		dels = append(dels, d)
	}
	if err := appendRaw(filepath.Join(camDir, RetentionLogFile), lines); err != nil {
		return nil, fmt.Errorf("camera %s: retention log: %w", cam, err)
	}
	if _, err := rewriteIndex(camDir, func(s Segment) bool { _, del := plan[s.Path]; return !del }); err != nil {
		return nil, fmt.Errorf("camera %s: %w", cam, err)
	}
	m := r.Metrics.orNew()
	var errs []error
	for _, d := range dels {
		name := filepath.Join(camDir, filepath.FromSlash(d.Segment.Path))
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		os.Remove(filepath.Dir(name)) // only succeeds once the day folder is empty
		m.deleted.WithLabelValues(cam, d.Rule).Inc()
		m.deletedBytes.WithLabelValues(cam, d.Rule).Add(float64(d.Segment.Size))
		r.logger().Info("segment deleted by retention", "camera", cam, "segment", d.Segment.Path,
			"start", d.Segment.Start, "end", d.Segment.End, "bytes", d.Segment.Size, "rule", d.Rule)
	}
	return dels, errors.Join(errs...)
}

// raise reports that scope (a camera, or "" for all) is over its cap and
// the next segment to delete is younger than MinRetention; once until clear.
func (r *Retention) raise(scope string, size, limit int64, next Segment, now time.Time) {
	if r.overCap == nil {
		r.overCap = map[string]bool{}
	}
	what := "all cameras' recordings take"
	if scope != "" {
		what = "recordings of camera " + scope + " take"
	}
	r.logger().Warn("storage over its cap: nothing younger than 30 days is deleted", "scope", scope,
		"bytes", size, "cap", limit, "oldest_deletable", next.Start)
	if r.overCap[scope] {
		return
	}
	r.overCap[scope] = true
	r.Metrics.orNew().incidents.WithLabelValues(IncidentStorage).Inc()
	if r.OnIncident != nil {
		r.OnIncident(Incident{Time: now, Camera: scope, Kind: IncidentStorage, Message: fmt.Sprintf(
			"%s %d bytes, over the cap of %d bytes, and the oldest recording that could be deleted (%s, from %s) is younger than 30 days: "+
				"recordings must be kept at least 30 days (regulation R-11.3), so nothing more was deleted; add storage or raise the cap",
			what, size, limit, next.Path, next.Start.Format(time.RFC3339))})
	}
}

// clear reports that scope is within its cap again after an incident.
func (r *Retention) clear(scope string, size, limit int64, now time.Time) {
	if !r.overCap[scope] {
		return
	}
	delete(r.overCap, scope)
	if r.OnIncident != nil {
		r.OnIncident(Incident{Time: now, Camera: scope, Kind: IncidentStorage, Resolved: true,
			Message: fmt.Sprintf("recordings are within their cap again: %d of %d bytes", size, limit)})
	}
}

// cameras lists the camera folders under Root: those with an index.
func (r *Retention) cameras() ([]string, error) {
	entries, err := os.ReadDir(r.Root)
	if err != nil {
		return nil, err
	}
	var cams []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.Root, e.Name(), IndexFile)); err == nil {
			cams = append(cams, e.Name())
		}
	}
	slices.SortFunc(cams, cmp.Compare)
	return cams, nil
}

// ReadRetentionLog returns what retention deleted of camera under root,
// oldest first. A camera without a log has no deletions.
func ReadRetentionLog(root, camera string) ([]Deletion, error) {
	if err := checkCameraID(camera); err != nil {
		return nil, fmt.Errorf("read retention log: %w", err)
	}
	var out []Deletion
	err := readLines(filepath.Join(root, camera, RetentionLogFile), func(line []byte) error {
		var j deletionJSON
		if err := json.Unmarshal(line, &j); err != nil {
			return err
		}
		at, err := time.Parse(time.RFC3339Nano, j.At)
		if err != nil {
			return err
		}
		out = append(out, Deletion{Segment: j.Segment, Rule: j.Rule, At: at.UTC()})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read retention log: %w", err)
	}
	return out, nil
}

// retentionDeleted returns the paths in camDir's retention log.
func retentionDeleted(camDir string) map[string]bool {
	out := map[string]bool{}
	readLines(filepath.Join(camDir, RetentionLogFile), func(line []byte) error {
		var j struct {
			Segment struct {
				Path string `json:"path"`
			} `json:"segment"`
		}
		if json.Unmarshal(line, &j) == nil {
			out[j.Segment.Path] = true
		}
		return nil
	})
	return out
}

// appendRaw appends complete lines to a file and syncs it, after cutting
// off a torn last line.
func appendRaw(name string, lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	err = appendTo(f, bytes.TrimSuffix(lines, []byte("\n")))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// now reads the clock.
func (r *Retention) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// logger returns the logger, or one that discards.
func (r *Retention) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger.With("component", "retention")
}
