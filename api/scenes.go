package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
)

// ActionSceneUpdate is the audit action of a scene saved through the API,
// recorded once the scene is valid and before it is applied.
const ActionSceneUpdate = "scene.update"

// ActionSceneUpdateFailed is audited when a scene audited as
// ActionSceneUpdate could then not be applied; the previous one stays.
const ActionSceneUpdateFailed = "scene.update_failed"

// SceneStore keeps the cameras' scenes (counting lines, zones, lanes,
// signals) and hands a changed one to the engine. It must be safe for
// concurrent use.
type SceneStore interface {
	// Scene returns the scene camera runs, or would run when the engine
	// starts it, and when it was last saved (zero when it comes from the
	// configuration); a nil scene when it has none.
	Scene(camera string) (sc *scene.Scene, updated time.Time, err error)
	// SetScene saves a validated scene for camera and makes the engine
	// apply it at the camera's next analysed frame (or when it starts the
	// camera). An error wrapping scene.ErrInvalidScene is the scene's
	// fault.
	SetScene(ctx context.Context, camera string, sc *scene.Scene) error
}

// cameraSnapshot serves the latest analysed picture of a camera to those
// who may watch it live (live_view), never cached.
func (s *Server) cameraSnapshot(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if !s.requireCamera(w, r, p, store.CapLiveView, id) {
		return
	}
	if s.Snapshots == nil {
		writeError(w, http.StatusNotFound, "camera: no picture yet")
		return
	}
	jpeg, at, ok := s.Snapshots.Latest(id)
	if !ok {
		writeError(w, http.StatusNotFound, "camera: no picture yet")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Captured-At", at.UTC().Format(time.RFC3339Nano))
	w.WriteHeader(http.StatusOK)
	w.Write(jpeg)
}

// getScene answers the scene a camera runs (an empty one when it has
// none) to those who may read its events or watch it live.
func (s *Server) getScene(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	caps, err := s.capsOn(r.Context(), p, id)
	if err != nil {
		s.fail(w, "get scene", err)
		return
	}
	if !hasCap(caps, store.CapEvents) && !hasCap(caps, store.CapLiveView) {
		notFound(w, "camera")
		return
	}
	if s.Scenes == nil {
		writeError(w, http.StatusServiceUnavailable, "scenes are not available")
		return
	}
	sc, updated, err := s.Scenes.Scene(id)
	if err != nil {
		s.fail(w, "get scene", err)
		return
	}
	if sc == nil {
		sc = &scene.Scene{}
	}
	out := *sc
	out.Camera = id
	if !updated.IsZero() {
		w.Header().Set("Last-Modified", updated.UTC().Format(http.TimeFormat))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// putScene validates, saves and applies a camera's scene; the caller must
// administer the camera's system (the ICT administrator, or a system
// administrator of the agency that manages it).
func (s *Server) putScene(w http.ResponseWriter, r *http.Request, p *principal) {
	id := r.PathValue("id")
	if !s.requireManagedCamera(w, r, p, id) {
		return
	}
	if s.Scenes == nil {
		writeError(w, http.StatusServiceUnavailable, "scenes are not available")
		return
	}
	body, ok := readBody(w, r, scene.MaxFileSize)
	if !ok {
		return
	}
	sc, err := scene.ParseJSON(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if sc.Camera != id {
		writeError(w, http.StatusBadRequest, "camera: the body's camera "+quote(sc.Camera)+" differs from the path's")
		return
	}
	if err := sc.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	old, _, err := s.Scenes.Scene(id)
	if err != nil {
		s.fail(w, "save scene", err)
		return
	}
	// The change is audited before it is made, so that no scene runs
	// without its audit entry; a change that then fails is audited too.
	before, _ := audit.JSON(sceneSummary(id, old))
	after, _ := audit.JSON(sceneSummary(id, &sc))
	if _, err := s.Store.Audit().Record(r.Context(), audit.Entry{Actor: p.actor(), Action: ActionSceneUpdate,
		Object: "camera:" + id, Before: before, After: after}); err != nil {
		s.fail(w, "save scene", fmt.Errorf("audit: %w", err))
		return
	}
	if err := s.Scenes.SetScene(r.Context(), id, &sc); err != nil {
		why, _ := audit.JSON(map[string]string{"error": err.Error()})
		if _, aerr := s.Store.Audit().Record(r.Context(), audit.Entry{Actor: p.actor(), Action: ActionSceneUpdateFailed,
			Object: "camera:" + id, After: why}); aerr != nil {
			err = errors.Join(err, fmt.Errorf("audit: %w", aerr))
		}
		if errors.Is(err, scene.ErrInvalidScene) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.fail(w, "save scene", err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

// sceneSummary is what the audit log keeps of a scene: how many items of
// each kind it has and their ids.
func sceneSummary(camera string, sc *scene.Scene) map[string]any {
	out := map[string]any{"camera": camera, "lines": 0, "zones": 0, "lanes": 0, "signals": 0}
	if sc == nil {
		return out
	}
	var ids []string
	for _, l := range sc.Lines {
		ids = append(ids, l.ID)
	}
	for _, z := range sc.Zones {
		ids = append(ids, z.ID+" ("+string(z.Kind)+")")
	}
	for _, l := range sc.Lanes {
		ids = append(ids, l.ID)
	}
	for _, g := range sc.Signals {
		ids = append(ids, g.ID)
	}
	out["lines"], out["zones"], out["lanes"], out["signals"] = len(sc.Lines), len(sc.Zones), len(sc.Lanes), len(sc.Signals)
	out["items"] = ids
	return out
}

// readBody reads a JSON request body of at most max bytes whole, for a
// decoder of its own.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send the body as application/json")
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", max))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "body: could not be read")
		return nil, false
	}
	return b, true
}
