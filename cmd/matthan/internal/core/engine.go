package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/analyzer/health"
	"github.com/matthan/matthan/analyzer/track"
	"github.com/matthan/matthan/api"
	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/models"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
	"github.com/matthan/matthan/sink/kafka"
	"github.com/matthan/matthan/sink/spool"
)

// drainTimeout bounds how long the sinks may take to flush at shutdown.
const drainTimeout = 15 * time.Second

// Engine is the whole analytics engine of one node.
type Engine struct {
	// Config must have passed Validate.
	Config conf.Config
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Registry collects every metric; it is what /metrics serves.
	// Defaults to a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// APIReady, when set, is called with the API's bound address.
	APIReady func(addr string)
}

// camera is one camera's stages.
type camera struct {
	conf     conf.Camera
	source   *ingest.Source
	recorder *record.Recorder
	pipeline *analyzer.Pipeline
	health   *health.Monitor
	sub      *ingest.Source // the analysis stream, when the camera has one
}

// Run starts everything, runs until ctx ends, then stops in order
// (ingest → analysis → sinks → API). It returns an error when a required
// part cannot start: the model, the store, the API address.
func (e *Engine) Run(ctx context.Context) error {
	cfg := e.Config
	log := e.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := e.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, dir := range []string{cfg.Data, cfg.RecordingsDir()} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
	}

	scenes, err := loadScenes(cfg, log)
	if err != nil {
		return err
	}
	meta, err := openMetadata(ctx, cfg)
	if err != nil {
		return err
	}
	defer meta.Close()
	evidenceKey, err := evidence.LoadOrCreateKey(evidence.KeyDir(cfg.Data))
	if err != nil {
		return fmt.Errorf("evidence signing key: %w", err)
	}
	// Any camera may be given a scene through the API, so the detector
	// always reports what the tracker needs.
	detector, err := openDetector(cfg, true)
	if err != nil {
		return err
	}
	defer detector.Close()
	if err := detector.FoldError(); err != nil {
		log.Warn("detector runs its graph as published: its Focus could not be folded (slower inference)", "error", err)
	}
	// Each model's scheduler shows its load on /metrics while it serves.
	schedMetrics := &schedulerMetrics{reg: reg, log: log}
	defer schedMetrics.close()
	schedMetrics.add(detector)
	// The fire/smoke model is loaded at start when a scene asks for it, and
	// later when a scene saved through the API first does.
	rules := &ruleBuilder{
		evidence: &analyzer.EvidenceDir{Root: filepath.Join(cfg.Data, "evidence")},
		log:      log,
		openModel: func() (*models.Scheduler, error) {
			s, err := openFireSmoke(cfg)
			if err == nil {
				schedMetrics.add(s)
			}
			return s, err
		},
	}
	defer rules.Close()
	for _, cc := range cfg.Cameras {
		if analyzer.HasSmokeWatch(active(scenes[cc.ID].scene)) {
			if _, err := rules.model(); err != nil {
				return err
			}
			break
		}
	}
	healthMetrics, err := health.NewMetrics(reg)
	if err != nil {
		return err
	}

	store, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()

	sinkMetrics, err := sink.NewMetrics(reg)
	if err != nil {
		return err
	}
	hub := &sink.Hub{RecentSize: 1000, Metrics: sinkMetrics}
	writers := []sink.Writer{store}
	if len(cfg.Kafka.Brokers) > 0 {
		tlsConfig, mech, err := kafkaSecurity(cfg.Kafka)
		if err != nil {
			return err
		}
		kw := &kafka.Writer{Brokers: cfg.Kafka.Brokers, ClientID: "matthan-" + cfg.Node, TLS: tlsConfig, SASL: mech, Logger: log}
		defer kw.Close()
		writers = append(writers, kw)
		log.Info("kafka on", "brokers", cfg.Kafka.Brokers)
	} else {
		log.Info("kafka off: no brokers configured")
	}
	spoolMetrics, err := spool.NewMetrics(reg)
	if err != nil {
		return err
	}
	// Every event is written to each sink's disk spool before it counts as
	// published, so an outage of Kafka or the store, or a restart of the
	// engine, loses nothing (at-least-once; the event id is the dedupe key).
	fanout := &sink.Fanout{
		Sinks:         writers,
		SpoolDir:      filepath.Join(cfg.Data, "spool"),
		SpoolMaxBytes: cfg.Sinks.SpoolMaxBytes,
		SpoolMetrics:  spoolMetrics,
		OnSpoolFull: func(name string, full bool) {
			if full {
				log.Error("event spool full: new events for this sink are refused until it drains", "sink", name)
			}
		},
		Logger:  log,
		Metrics: sinkMetrics,
	}
	if err := fanout.Open(); err != nil {
		return fmt.Errorf("event spool: %w", err)
	}
	publish := func(ev sink.Event) {
		hub.Publish(ev)
		if err := fanout.Publish(ev); err != nil {
			log.Warn("event not accepted", "type", ev.Type, "camera", ev.CameraID, "error", err)
		}
	}

	ingestMetrics, err := ingest.NewMetrics(reg)
	if err != nil {
		return err
	}
	recordMetrics, err := record.NewMetrics(reg)
	if err != nil {
		return err
	}
	analyzerMetrics := analyzer.NewMetrics(reg)
	decodeMetrics := analyzer.NewDecodeMetrics(reg)
	cameras := make([]*camera, 0, len(cfg.Cameras))
	defer func() {
		// After the analysis stopped (or never started): the rules and
		// analytics the pipelines own, before the model they use.
		for _, c := range cameras {
			c.pipeline.Close()
		}
	}()
	for _, cc := range cfg.Cameras {
		camLog := log.With("camera", cc.ID)
		c := &camera{conf: cc}
		c.recorder = &record.Recorder{
			Root:            cfg.RecordingsDir(),
			CameraID:        cc.ID,
			SegmentDuration: cfg.Recording.Segment.D(),
			PartDuration:    cfg.Recording.Part.D(),
			Logger:          log, // the recorder adds its component and camera keys
			Metrics:         recordMetrics,
		}
		c.recorder.OnGap = func(g record.Gap) { publish(gapEvent(g, cfg.Node)) }
		c.recorder.OnIncident = func(in record.Incident) { publish(incidentEvent(in, cfg.Node)) }
		c.health = &health.Monitor{
			Camera:   cc.ID,
			OnChange: func(ch health.Change) { publish(pictureEvent(ch, cc.SystemID, cfg.Node)) },
			Logger:   camLog.With("component", "health"),
			Metrics:  healthMetrics,
		}
		c.pipeline = &analyzer.Pipeline{
			CameraID:        cc.ID,
			SystemID:        cc.SystemID,
			Node:            cfg.Node,
			FPS:             cfg.AnalysisFPS(cc),
			EventInterval:   cfg.Analysis.EventInterval.D(),
			Detector:        detector,
			ReportThreshold: float32(cfg.Detector.Threshold),
			Health:          c.health,
			Publish:         publish,
			Logger:          camLog.With("component", "analyzer"),
			Metrics:         analyzerMetrics,
			DecodeMetrics:   decodeMetrics,
		}
		cameras = append(cameras, c)
		if sc := active(scenes[cc.ID].scene); sc != nil {
			rs, as, err := rules.build(cc.ID, sc)
			if err == nil {
				err = c.pipeline.SetScene(sc, rs, as)
			}
			if err != nil {
				return fmt.Errorf("camera %s: scene: %w", cc.ID, err)
			}
		}
		rec, pipe := c.recorder, c.pipeline
		c.source = &ingest.Source{
			CameraID:  cc.ID,
			URL:       cc.URL,
			Transport: cc.Transport,
			OnAccessUnit: func(au ingest.AccessUnit) {
				rec.Push(au)
				pipe.Push(au)
			},
			Logger:  log, // the source adds its component and camera keys
			Metrics: ingestMetrics,
		}
		if cc.SubURL != "" {
			// The main stream is recorded; the sub stream is analysed.
			c.source.OnAccessUnit = rec.Push
			c.sub = &ingest.Source{
				CameraID:     cc.ID,
				Stream:       ingest.StreamSub,
				URL:          cc.SubURL,
				Transport:    cc.Transport,
				OnAccessUnit: pipe.Push,
				Logger:       log,
				Metrics:      ingestMetrics,
			}
		}
	}

	retention := &record.Retention{
		Root:           cfg.RecordingsDir(),
		MaxAge:         cfg.Recording.Retention.D(),
		CameraMaxBytes: cfg.Recording.MaxBytesPerCamera,
		TotalMaxBytes:  cfg.Recording.MaxBytesTotal,
		OnIncident:     func(in record.Incident) { publish(incidentEvent(in, cfg.Node)) },
		// The API writes the audit entries of holds and releases, with the
		// acting user; the retention files keep their own record.
		Audit: func(action string, details map[string]string) {
			log.Info("legal hold", "action", action, "details", details)
		},
		Logger:  log,
		Metrics: recordMetrics,
	}
	if err := retention.Validate(); err != nil {
		return fmt.Errorf("recording: %w", err)
	}

	// Each group has its own context so shutdown can go in order.
	var (
		sinkCtx, stopSinks        = context.WithCancel(context.WithoutCancel(ctx))
		analysisCtx, stopAnalysis = context.WithCancel(context.WithoutCancel(ctx))
		ingestCtx, stopIngest     = context.WithCancel(context.WithoutCancel(ctx))
		apiCtx, stopAPI           = context.WithCancel(context.WithoutCancel(ctx))
		sinkWG, analysisWG, ingWG sync.WaitGroup
		apiWG                     sync.WaitGroup
		apiErr                    = make(chan error, 1)
	)
	defer stopSinks()
	defer stopAnalysis()
	defer stopIngest()
	defer stopAPI()

	sinkWG.Go(func() {
		if err := fanout.Run(sinkCtx); err != nil {
			log.Error("sinks stopped", "error", err)
		}
	})
	for _, c := range cameras {
		analysisWG.Go(func() { supervise(analysisCtx, log.With("camera", c.conf.ID, "component", "analyzer"), c.pipeline.Run) })
		ingWG.Go(func() { supervise(ingestCtx, log.With("camera", c.conf.ID, "component", "record"), c.recorder.Run) })
		ingWG.Go(func() { supervise(ingestCtx, log.With("camera", c.conf.ID, "component", "ingest"), c.source.Run) })
		if c.sub != nil {
			ingWG.Go(func() { supervise(ingestCtx, log.With("camera", c.conf.ID, "component", "ingest"), c.sub.Run) })
		}
	}
	watch := &watcher{cameras: cameras, node: cfg.Node, publish: publish, store: meta,
		incidentAfter: cfg.Health.IncidentAfter.D(), log: log.With("component", "health")}
	ingWG.Go(func() { watch.run(ingestCtx) })
	ingWG.Go(func() { supervise(ingestCtx, log.With("component", "retention"), retention.Run) })
	sceneStore := newSceneStore(cfg.Data, scenes, cameras, rules, log.With("component", "scenes"))
	server := &api.Server{
		Listen:         cfg.Listen,
		TLSCert:        cfg.API.TLSCert,
		TLSKey:         cfg.API.TLSKey,
		Store:          meta,
		Auth:           auth.New(meta, auth.Config{}, log.With("component", "auth"), nil),
		Cameras:        func() []api.CameraStatus { return statuses(cameras) },
		Events:         store,
		Stats:          store,
		Live:           hub,
		Snapshots:      snapshots(cameras),
		Scenes:         sceneStore,
		Signals:        sceneStore,
		Retention:      retention,
		Recordings:     cfg.RecordingsDir(),
		RetentionDays:  int(cfg.Recording.Retention.D() / (24 * time.Hour)),
		EvidenceKey:    evidenceKey,
		DataDir:        cfg.Data,
		Node:           cfg.Node,
		Gatherer:       reg,
		MetricsFrom:    cfg.API.MetricsNetworks(),
		TrustedProxies: cfg.API.ProxyNetworks(),
		Logger:         log.With("component", "api"),
		Ready: func(addr string) {
			log.Info("api listening", "addr", addr)
			if e.APIReady != nil {
				e.APIReady(addr)
			}
		},
	}
	apiWG.Go(func() { apiErr <- server.Run(apiCtx) })
	log.Info("engine started", "cameras", len(cameras), "data", cfg.Data, "model", detector.Manifest().Name)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-apiErr:
	}

	// Shutdown, in order.
	log.Info("stopping: ingest")
	stopIngest()
	ingWG.Wait()
	log.Info("stopping: analysis")
	stopAnalysis()
	analysisWG.Wait()
	for _, c := range cameras {
		c.health.Close() // after the pipeline that fed it has stopped
	}
	log.Info("stopping: sinks (flushing)")
	stopSinks()
	sinkWG.Wait()
	log.Info("stopping: api")
	stopAPI()
	apiWG.Wait()
	if runErr == nil {
		select {
		case err := <-apiErr:
			runErr = err
		default:
		}
	}
	return runErr
}

// openDetector loads the model once and returns the scheduler that serves
// every camera's pipeline.
//
// With scenes the tracker needs the detector's weak candidates too (its
// second association pass), so the detector reports down to the tracker's
// low score, and the stand-ins (boxes of classes the model mistakes
// vehicles for), and the pipelines keep the configured threshold and the
// labelled classes for their summaries.
func openDetector(cfg conf.Config, tracking bool) (*models.Scheduler, error) {
	lib := cfg.Runtime.ONNXRuntime
	if lib == "" {
		lib = depsPath("lib/libonnxruntime.so.1", "/usr/local/lib/libonnxruntime.so.1")
	}
	if err := models.InitRuntime(lib); err != nil {
		return nil, err
	}
	m, err := models.Zoo(cfg.Detector.Model)
	if err != nil {
		return nil, fmt.Errorf("detector.model: %w", err)
	}
	dir := cfg.Detector.ModelsDir
	if dir == "" {
		dir = depsPath("models", "")
	}
	return models.NewScheduler(m, dir, models.SchedulerOptions{
		Workers: cfg.Detector.Workers,
		Session: models.SessionOptions{
			IntraOpThreads:    cfg.Detector.Threads,
			GraphOptimization: cfg.Detector.GraphOptimization,
			ExecutionProvider: cfg.Detector.Provider,
		},
		Threshold: detectorThreshold(cfg, m, tracking),
		StandIns:  tracking,
	})
}

// schedulerMetrics registers the collectors of the model schedulers an
// engine run opens, and unregisters them when the run ends (a registry may
// serve several runs).
type schedulerMetrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	mu         sync.Mutex
	collectors []prometheus.Collector
}

// add shows s's counters (models.Scheduler.Collector) on the registry.
func (m *schedulerMetrics) add(s *models.Scheduler) {
	c := s.Collector()
	if err := m.reg.Register(c); err != nil {
		m.log.Warn("scheduler metrics not registered", "model", s.Manifest().Name, "error", err)
		return
	}
	m.mu.Lock()
	m.collectors = append(m.collectors, c)
	m.mu.Unlock()
}

// close unregisters every collector add registered.
func (m *schedulerMetrics) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}

// openFireSmoke loads the fire/smoke model, shared by the cameras whose
// scene has a smoke_watch zone.
func openFireSmoke(cfg conf.Config) (*models.Scheduler, error) {
	m, err := models.Zoo(cfg.Analysis.FireSmokeModel)
	if err != nil {
		return nil, fmt.Errorf("analysis.firesmoke_model: %w", err)
	}
	dir := cfg.Detector.ModelsDir
	if dir == "" {
		dir = depsPath("models", "")
	}
	return models.NewScheduler(m, dir, models.SchedulerOptions{
		Workers:   1,
		Session:   models.SessionOptions{IntraOpThreads: cfg.Detector.Threads},
		Threshold: analyzer.FireSmokeThreshold,
	})
}

// detectorThreshold is the least confidence the shared detector reports.
func detectorThreshold(cfg conf.Config, m models.Manifest, tracking bool) float32 {
	t := float32(cfg.Detector.Threshold)
	if t == 0 {
		t = m.Threshold
	}
	if tracking {
		t = min(t, track.DefaultLowScore)
	}
	return t
}

// openStore opens the analytics store (the embedded engine unless a server
// DSN is configured) and brings its schema up to date.
func openStore(ctx context.Context, cfg conf.Config) (*clickhouse.Store, func(), error) {
	var backend clickhouse.Backend
	if cfg.ClickHouse.DSN != "" {
		s, err := clickhouse.OpenServer(cfg.ClickHouse.DSN)
		if err != nil {
			return nil, nil, err
		}
		backend = s
	} else {
		lib := cfg.Runtime.CHDB
		if lib == "" {
			lib = depsPath("lib/libchdb.so", "/usr/local/lib/libchdb.so")
		}
		s, err := clickhouse.OpenEmbedded(filepath.Join(cfg.Data, "clickhouse"), lib)
		if err != nil {
			return nil, nil, err
		}
		backend = s
	}
	store := &clickhouse.Store{Backend: backend, Retention: cfg.Recording.Retention.D()}
	if err := store.Migrate(ctx); err != nil {
		backend.Close()
		return nil, nil, err
	}
	return store, func() { backend.Close() }, nil
}

// supervise runs a stage and restarts it after a backoff when it fails,
// until ctx ends.
func supervise(ctx context.Context, log *slog.Logger, run func(context.Context) error) {
	backoff := time.Second
	for {
		err := run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped unexpectedly")
		}
		wait := backoff + rand.N(backoff/2)
		log.Error("stage failed; restarting", "error", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// rate is the frames per second of a sampling period, 0 for none.
func rate(period time.Duration) float64 {
	if period <= 0 {
		return 0
	}
	return float64(time.Second) / float64(period)
}

func statuses(cameras []*camera) []api.CameraStatus {
	out := make([]api.CameraStatus, 0, len(cameras))
	for _, c := range cameras {
		st := c.source.Status()
		ps := c.pipeline.Stats()
		s := api.CameraStatus{
			ID:             c.conf.ID,
			Name:           c.conf.Name,
			SystemID:       c.conf.SystemID,
			State:          st.State.String(),
			LastError:      st.LastError,
			LastFrame:      st.LastFrame,
			FPS:            st.FPS,
			BitrateBPS:     st.Bitrate,
			Uptime:         st.Uptime,
			UptimeToday:    st.UptimeToday,
			PacketLoss:     st.PacketLoss,
			Degraded:       st.Degraded,
			Reconnects:     int64(st.Reconnects),
			FramesDecoded:  ps.FramesDecoded,
			AnalysisFPS:    rate(ps.Period),
			FramesAnalysed: ps.FramesInferred,
			FramesDropped:  ps.FramesDropped,
			LastAnalysed:   ps.LastAnalysed,
		}
		for _, cond := range c.health.Status().Active {
			s.Picture = append(s.Picture, cond.Condition.String())
		}
		out = append(out, s)
	}
	return out
}

// snapshots serves each camera's latest picture to the API.
type snapshots []*camera

// Latest implements api.Snapshots.
func (s snapshots) Latest(id string) ([]byte, time.Time, bool) {
	for _, c := range s {
		if c.conf.ID == id {
			return c.pipeline.Snapshot()
		}
	}
	return nil, time.Time{}, false
}
