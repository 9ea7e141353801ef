package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/analyzer/violation"
	"github.com/matthan/matthan/api"
	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/models"
)

// scenesDir is where scenes saved through the API are kept, under the data
// folder, one <camera>.yaml each. A saved scene takes precedence over the
// configuration's scene file.
func scenesDir(data string) string { return filepath.Join(data, "scenes") }

// savedScene is a camera's scene and when it was saved through the API
// (zero for one from the configuration).
type savedScene struct {
	scene *scene.Scene
	saved time.Time
}

// loadScenes reads every camera's scene: the one saved through the API
// when there is one, else the configuration's scene file; and the scenes
// saved for cameras the engine does not run. It logs which one each
// configured camera runs.
func loadScenes(cfg conf.Config, log *slog.Logger) (map[string]savedScene, error) {
	scenes := make(map[string]savedScene)
	dir := scenesDir(cfg.Data)
	files, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("saved scenes: %w", err)
	}
	for _, f := range files {
		id, ok := strings.CutSuffix(f.Name(), ".yaml")
		if !ok || !f.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, f.Name())
		sc, err := scene.Load(path)
		if err != nil {
			return nil, fmt.Errorf("scene saved through the API (remove the file to use the configuration's): %w", err)
		}
		if sc.Camera != id {
			return nil, fmt.Errorf("scene saved through the API %s: its camera is %q (remove the file to use the configuration's)", path, sc.Camera)
		}
		info, err := f.Info()
		if err != nil {
			return nil, fmt.Errorf("saved scenes: %w", err)
		}
		scenes[id] = savedScene{scene: &sc, saved: info.ModTime().UTC()}
	}
	for i, cc := range cfg.Cameras {
		if s, ok := scenes[cc.ID]; ok {
			log.Info("scene saved through the API", "camera", cc.ID, "file", filepath.Join(dir, cc.ID+".yaml"),
				"over_config", cc.Scene != "", "items", sceneItems(s.scene))
			continue
		}
		if cc.Scene == "" {
			continue
		}
		sc, err := scene.Load(cc.Scene)
		if err != nil {
			return nil, fmt.Errorf("cameras[%d].scene: %w", i, err)
		}
		scenes[cc.ID] = savedScene{scene: &sc}
		log.Info("scene from the configuration", "camera", cc.ID, "file", cc.Scene, "items", sceneItems(&sc))
	}
	return scenes, nil
}

// sceneItems counts a scene's lines, zones, lanes and signals.
func sceneItems(sc *scene.Scene) int {
	if sc == nil {
		return 0
	}
	return len(sc.Lines) + len(sc.Zones) + len(sc.Lanes) + len(sc.Signals)
}

// active is the scene a pipeline runs: nil for one without items, which
// leaves the camera on detection summaries.
func active(sc *scene.Scene) *scene.Scene {
	if sceneItems(sc) == 0 {
		return nil
	}
	return sc
}

// sceneStore keeps the cameras' scenes for the API (api.SceneStore): it
// saves a changed scene under the data folder and hands it to the
// camera's pipeline, with the rules built for it, to apply at its next
// frame.
type sceneStore struct {
	dir   string
	rules *ruleBuilder
	log   *slog.Logger

	mu      sync.Mutex // serialises saves
	scenes  map[string]savedScene
	cameras map[string]*camera // the cameras the engine runs
}

// newSceneStore returns the scene store of the engine's cameras, with the
// scenes loaded at start.
func newSceneStore(data string, scenes map[string]savedScene, cameras []*camera, rules *ruleBuilder, log *slog.Logger) *sceneStore {
	s := &sceneStore{dir: scenesDir(data), rules: rules, log: log, scenes: scenes, cameras: map[string]*camera{}}
	for _, c := range cameras {
		s.cameras[c.conf.ID] = c
	}
	return s
}

// Scene implements api.SceneStore.
func (s *sceneStore) Scene(camera string) (*scene.Scene, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.scenes[camera]
	return sv.scene, sv.saved, nil
}

// SetScene implements api.SceneStore: it builds the camera's rules for the
// scene, writes the scene file (atomically, 0600), then hands both to the
// pipeline. A camera the engine does not run gets the file only.
func (s *sceneStore) SetScene(ctx context.Context, camera string, sc *scene.Scene) error {
	if sc == nil || sc.Camera != camera {
		return fmt.Errorf("%w: the scene is not camera %q's", scene.ErrInvalidScene, camera)
	}
	if err := sc.Validate(); err != nil {
		return err
	}
	name := camera + ".yaml"
	if !filepath.IsLocal(name) || strings.ContainsAny(camera, `/\`) {
		return fmt.Errorf("%w: camera %q cannot name a file", scene.ErrInvalidScene, camera)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cameras[camera]
	var (
		rules     []analyzer.Rule
		analytics []analyzer.Analytic
	)
	if c != nil {
		var err error
		if rules, analytics, err = s.rules.build(camera, active(sc)); err != nil {
			return err
		}
	}
	path := filepath.Join(s.dir, name)
	previous, readErr := os.ReadFile(path)
	if err := writeSceneFile(path, sc); err != nil {
		closeAll(rules, analytics)
		return err
	}
	now := time.Now().UTC()
	if c != nil {
		if err := c.pipeline.SetScene(active(sc), rules, analytics); err != nil {
			// Put back what was there, so the next start runs what runs now.
			if readErr == nil {
				os.WriteFile(path, previous, 0o600)
			} else {
				os.Remove(path)
			}
			closeAll(rules, analytics)
			return fmt.Errorf("%w: %v", scene.ErrInvalidScene, err)
		}
	}
	s.scenes[camera] = savedScene{scene: sc, saved: now}
	s.log.Info("scene saved", "camera", camera, "file", path, "running", c != nil, "lines", len(sc.Lines),
		"zones", len(sc.Zones), "lanes", len(sc.Lanes), "signals", len(sc.Signals))
	return nil
}

// SetSignal implements api.SignalFeed: the state goes to the camera's
// pipeline, whose red-light rule takes it at its next frame.
func (s *sceneStore) SetSignal(camera, signal string, state violation.SignalState, at time.Time) error {
	s.mu.Lock()
	c := s.cameras[camera]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("camera %q: %w", camera, api.ErrCameraNotRunning)
	}
	return c.pipeline.SetSignal(signal, state, at)
}

// writeSceneFile writes sc as YAML to path through a synced temporary file
// renamed over it, so that a crash leaves the old scene or the new one.
func writeSceneFile(path string, sc *scene.Scene) error {
	b, err := yaml.Marshal(sc)
	if err != nil {
		return fmt.Errorf("save scene: %w", err)
	}
	b = append([]byte("# Saved through the API; it takes precedence over the configuration's scene file.\n"), b...)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("save scene: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".scene-*") // mode 0600
	if err != nil {
		return fmt.Errorf("save scene: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save scene: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename itself
		d.Close()
	}
	return nil
}

// ruleBuilder builds a camera's track rules and analytics for a scene: the
// violation rules, and the fire and smoke analytic when the scene has a
// smoke_watch zone (its model is loaded on first need).
type ruleBuilder struct {
	evidence  *analyzer.EvidenceDir
	log       *slog.Logger
	openModel func() (*models.Scheduler, error)

	mu        sync.Mutex
	fireSmoke *models.Scheduler
}

// build returns the rules and analytics of camera for sc (none for nil).
func (b *ruleBuilder) build(camera string, sc *scene.Scene) ([]analyzer.Rule, []analyzer.Analytic, error) {
	if sc == nil {
		return nil, nil, nil
	}
	log := b.log.With("camera", camera)
	rule, err := analyzer.NewViolationRule(camera, *sc, b.evidence, log.With("component", "violation"))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", scene.ErrInvalidScene, err)
	}
	if !analyzer.HasSmokeWatch(sc) {
		return []analyzer.Rule{rule}, nil, nil
	}
	det, err := b.model()
	if err != nil {
		return nil, nil, err
	}
	fs, err := analyzer.NewFireSmokeAnalytic(camera, *sc, det, b.evidence, log.With("component", "firesmoke"))
	if err != nil {
		return nil, nil, fmt.Errorf("camera %s: %w", camera, err)
	}
	return []analyzer.Rule{rule}, []analyzer.Analytic{fs}, nil
}

// model returns the fire/smoke model, loading it the first time.
func (b *ruleBuilder) model() (*models.Scheduler, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fireSmoke == nil {
		m, err := b.openModel()
		if err != nil {
			return nil, err
		}
		b.fireSmoke = m
	}
	return b.fireSmoke, nil
}

// Close frees the fire/smoke model, once the pipelines using it stopped.
func (b *ruleBuilder) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fireSmoke != nil {
		b.fireSmoke.Close()
		b.fireSmoke = nil
	}
}

// closeAll closes the rules and analytics that have a Close method.
func closeAll(rules []analyzer.Rule, analytics []analyzer.Analytic) {
	for _, r := range rules {
		if c, ok := r.(interface{ Close() error }); ok {
			c.Close()
		}
	}
	for _, x := range analytics {
		if c, ok := x.(interface{ Close() error }); ok {
			c.Close()
		}
	}
}
