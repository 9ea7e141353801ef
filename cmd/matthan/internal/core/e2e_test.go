package core

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
)

// TestEndToEnd runs the whole flow on real parts: camsim streams a real
// traffic clip over loopback RTSP; the engine records it, detects objects
// with YOLOX-Nano in ONNX Runtime and sends events to the real Kafka broker
// and the embedded ClickHouse engine (chDB).
func TestEndToEnd(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	for _, tool := range []string{"ffprobe", "kcat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run \"make deps\"", tool)
		}
	}
	clip := testenv.Clip(t, "traffic_intersection_signals_cctv_day.mp4")
	const runFor = 20 * time.Second
	// smokeWait is how much longer the run may last for the fire camera's
	// smoke alert.
	const smokeWait = 40 * time.Second

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The camera.
	rtspAddr := testenv.FreeAddr(t)
	fireClip := testenv.Clip(t, "fire_smoke_model_house_garden_day.mp4")
	sim := &camsim.Server{Listen: rtspAddr, Files: []string{clip, fireClip}}
	simCtx, stopSim := context.WithCancel(ctx)
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Run(simCtx) }()
	defer func() { stopSim(); <-simDone }()

	// The engine.
	camID := fmt.Sprintf("e2e-%d", time.Now().UnixNano()%1_000_000_000)
	cfg := testConfig(t)
	cfg.Node = "e2e"
	cfg.Analysis.FPS = 2
	cfg.Recording.Segment = conf.Duration(5 * time.Second)
	cfg.Kafka.Brokers = conf.SplitList(brokers)
	// The counting line through the middle of the junction that
	// benchmarks/groundtruth uses for this clip.
	scenePath := filepath.Join(t.TempDir(), "scene.yaml")
	sceneYAML := "camera: " + camID + "\nlines:\n  - id: center\n    points: [[0.50, 0.52], [0.50, 0.14]]\n    classes: [car, truck, bus, motorcycle]\n"
	if err := os.WriteFile(scenePath, []byte(sceneYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	// The burning model house, with the demo's smoke-watch zone: the fire and
	// smoke analytic runs on it at 2 fps.
	fireID := camID + "-fire"
	cfg.Cameras = []conf.Camera{
		// The junction at its own rate (cameras[].fps), twice the default.
		{ID: camID, URL: "rtsp://" + rtspAddr + "/traffic_intersection_signals_cctv_day", Scene: scenePath, FPS: 4},
		{ID: fireID, URL: "rtsp://" + rtspAddr + "/fire_smoke_model_house_garden_day",
			Scene: filepath.Join(testenv.Root(t), "deploy", "scenes", "fire_smoke_model_house_garden_day.yaml")},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	createAdmin(t, cfg.Data)
	var logs bytes.Buffer
	apiAddr := make(chan string, 1)
	engine := &Engine{
		Config:   cfg,
		Logger:   slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil)),
		APIReady: func(addr string) { apiAddr <- addr },
	}
	engineCtx, stopEngine := context.WithCancel(ctx)
	engineDone := make(chan error, 1)
	start := time.Now()
	go func() { engineDone <- engine.Run(engineCtx) }()
	var base string
	select {
	case addr := <-apiAddr:
		base = "http://" + addr
	case err := <-engineDone:
		t.Fatalf("engine stopped at start: %v\n%s", err, logs.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("engine did not start its API in 2 minutes")
	}

	time.Sleep(runFor - time.Since(start))
	// The fire camera proves smoke after some seconds of votes at 2 fps;
	// on a loaded machine (the race detector, other packages' tests) its
	// frames come slower, so wait for the alert a while longer rather than
	// cut the run at a fixed time.
	smokeMetric := `camera="` + fireID + `",type="` + sink.TypeAlertSmoke + `"`
	for deadline := time.Now().Add(smokeWait); time.Now().Before(deadline); time.Sleep(time.Second) {
		if metricValue(httpGet(t, base+"/metrics"), "matthan_analyzer_events_total", smokeMetric) > 0 {
			break
		}
	}

	// (4) /metrics shows frames decoded, inferred and dropped for the camera.
	metrics := httpGet(t, base+"/metrics")
	for _, name := range []string{"matthan_frames_decoded_total", "matthan_frames_inferred_total"} {
		v := metricValue(metrics, name, `camera="`+camID+`"`)
		if v <= 0 {
			t.Errorf("%s for %s = %v, want > 0", name, camID, v)
		}
	}
	if v := metricValue(metrics, "matthan_frames_dropped_total", `camera="`+camID+`"`); v < 0 {
		t.Errorf("/metrics has no matthan_frames_dropped_total for %s", camID)
	}
	// Each camera is analysed at its rate: the junction at its own 4 fps,
	// the fire camera at analysis.fps 2 (the keyframe each waits for at the
	// start moves the ratio a little).
	junction := metricValue(metrics, "matthan_frames_inferred_total", `camera="`+camID+`"`)
	fire := metricValue(metrics, "matthan_frames_inferred_total", `camera="`+fireID+`"`)
	t.Logf("frames analysed: junction %v (4 fps), fire camera %v (2 fps)", junction, fire)
	if ratio := junction / fire; !(ratio > 1.4 && ratio < 3) {
		t.Errorf("frames analysed: junction %v at 4 fps, fire camera %v at 2 fps; ratio %.2f, want about 2", junction, fire, ratio)
	}
	// The schedulers of both models (the detector, and the fire camera's
	// fire/smoke model) show their load.
	for _, model := range []string{`model="yolox_nano"`, `model="firesmoke`} {
		for _, name := range []string{"matthan_scheduler_runs_total", "matthan_scheduler_busy_seconds_total"} {
			if v := metricValue(metrics, name, model); v <= 0 {
				t.Errorf("%s{%s} = %v, want > 0", name, model, v)
			}
		}
	}
	var cams struct {
		Cameras []struct {
			ID     string `json:"id"`
			Status struct {
				State       string  `json:"state"`
				AnalysisFPS float64 `json:"analysis_fps"`
			} `json:"status"`
		} `json:"cameras"`
	}
	if anon := httpStatus(t, base+"/api/v1/cameras"); anon != http.StatusUnauthorized {
		t.Errorf("anonymous GET /api/v1/cameras = %d, want 401", anon)
	}
	client := login(t, base)
	if err := json.Unmarshal([]byte(client.get(t, "/api/v1/cameras")), &cams); err != nil {
		t.Fatal(err)
	}
	if len(cams.Cameras) != 2 || cams.Cameras[0].Status.State != "online" || cams.Cameras[1].Status.State != "online" {
		t.Errorf("cameras = %+v, want two online cameras", cams.Cameras)
	}
	for _, c := range cams.Cameras {
		if want := map[string]float64{camID: 4, fireID: 2}[c.ID]; math.Abs(c.Status.AnalysisFPS-want) > 1e-9 {
			t.Errorf("camera %s analysed at %v fps, want %v", c.ID, c.Status.AnalysisFPS, want)
		}
	}

	stopEngine()
	stopped := time.Now()
	if err := <-engineDone; err != nil {
		t.Fatalf("engine: %v", err)
	}
	if strings.Contains(logs.String(), "rtsp://") {
		t.Errorf("a camera URL reached the logs")
	}

	// (1) The recorded segments play, cover the run without gaps over one
	// GOP (4.27 s in this clip), and add up to the wall time within 2 s.
	segs, err := record.ReadIndex(filepath.Join(cfg.Data, "recordings"), camID)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 2 {
		t.Fatalf("%d segments recorded, want at least 2 of 5 s in %v", len(segs), runFor)
	}
	const gop = 4267 * time.Millisecond
	var total time.Duration
	for i, s := range segs {
		path := filepath.Join(cfg.Data, "recordings", camID, s.Path)
		d := probeDuration(t, path)
		total += d
		if i > 0 {
			if gap := s.Start.Sub(segs[i-1].End); gap > gop || gap < -gop {
				t.Errorf("segment %d starts %v after the previous one ends", i, gap)
			}
		}
	}
	recorded := segs[len(segs)-1].End.Sub(segs[0].Start)
	if diff := (total - recorded).Abs(); diff > 2*time.Second {
		t.Errorf("segments hold %v of video but span %v of wall time", total, recorded)
	}
	// The recording starts after connecting and the first keyframe, so it
	// covers the run from then until stop.
	if wall := stopped.Sub(segs[0].Start); (wall - recorded).Abs() > 2*time.Second {
		t.Errorf("recording spans %v, wall time since its start is %v", recorded, wall)
	}

	// (2) cars are detected, and the events are in ClickHouse.
	backend, err := clickhouse.OpenEmbedded(filepath.Join(cfg.Data, "clickhouse"), cfg.Runtime.CHDB)
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	store := &clickhouse.Store{Backend: backend, Retention: cfg.Recording.Retention.D()}
	stored, err := store.Recent(ctx, camID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	fireEvents, err := store.Recent(ctx, fireID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Every stored event follows the published schema.
	for _, ev := range append(slices.Clone(stored), fireEvents...) {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.ValidateJSON(b); err != nil {
			t.Errorf("stored %s event: %v", ev.Type, err)
		}
	}
	// Smoke is seen on the fire camera, with a snapshot kept as evidence.
	var smoke *sink.Event
	for i := range fireEvents {
		if fireEvents[i].Type == sink.TypeAlertSmoke {
			smoke = &fireEvents[i]
			break
		}
	}
	if smoke == nil {
		t.Errorf("no alert.smoke for the burning house in ClickHouse (events: %d)", len(fireEvents))
	} else {
		snap := filepath.Join(cfg.Data, "evidence", fireID, smoke.TS.UTC().Format(time.DateOnly), smoke.ID+".jpg")
		b, err := os.ReadFile(snap)
		if err != nil {
			t.Errorf("evidence snapshot: %v", err)
		} else if sum := sha256.Sum256(b); smoke.Evidence == nil || hex.EncodeToString(sum[:]) != smoke.Evidence.SnapshotSHA256 {
			t.Errorf("snapshot %s does not match the event's sha256", snap)
		}
		if alerts := kcatEvents(t, brokers, "matthan.alerts", fireID, sink.TypeAlertSmoke); len(alerts) == 0 {
			t.Error("kcat read no alert.smoke from matthan.alerts")
		}
	}
	cars := 0
	storedIDs := map[string]bool{}
	online, counts := false, 0
	for _, ev := range stored {
		switch ev.Type {
		case sink.TypeDetectionSummary:
			storedIDs[ev.ID] = true
			cars += ev.Counts["car"]
		case sink.TypeCameraOnline:
			online = true
		case sink.TypeTrafficCount:
			counts++
			if ev.Line != "center" {
				t.Errorf("traffic.count for line %q, want center", ev.Line)
			}
		}
	}
	if !online {
		t.Errorf("no camera.online event stored for %s", camID)
	}
	// The counter reports each line every minute and at shutdown, crossings
	// or not.
	if counts == 0 {
		t.Errorf("no traffic.count event stored for %s", camID)
	}
	if len(stored) < 5 || cars == 0 {
		t.Fatalf("ClickHouse has %d events with %d cars for %s; want cars in most of ~%v of traffic", len(stored), cars, camID, runFor)
	}

	// (3) An independent Kafka client reads the same events.
	if health := kcatEvents(t, brokers, "matthan.health", camID, sink.TypeCameraOnline); len(health) == 0 {
		t.Error("kcat read no camera.online event from matthan.health")
	}
	fromKafka := kcatEvents(t, brokers, "matthan.detections", camID, sink.TypeDetectionSummary)
	if len(fromKafka) == 0 {
		t.Fatal("kcat read no events for the camera")
	}
	var kafkaIDs []string
	for _, ev := range fromKafka {
		kafkaIDs = append(kafkaIDs, ev.ID)
		if !storedIDs[ev.ID] {
			t.Errorf("event %s is in Kafka but not in ClickHouse", ev.ID)
		}
	}
	for id := range storedIDs {
		if !slices.Contains(kafkaIDs, id) {
			t.Errorf("event %s is in ClickHouse but not in Kafka", id)
		}
	}
	t.Logf("%d segments, %v recorded over %v; %d events (%d cars counted) in ClickHouse and Kafka",
		len(segs), total.Round(time.Millisecond), recorded.Round(time.Millisecond), len(stored), cars)
}

// httpStatus returns the status of an anonymous GET.
func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b)
}

// metricValue finds the sample of a metric whose labels contain label.
func metricValue(text, name, label string) float64 {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+"{") && strings.Contains(line, label) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			return v
		}
	}
	return -1
}

func probeDuration(t *testing.T, path string) time.Duration {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 {
		t.Fatalf("ffprobe %s reports errors: %s", path, out)
	}
	sec, err := strconv.ParseFloat(lines[0], 64)
	if err != nil {
		t.Fatalf("ffprobe %s: duration %q", path, lines[0])
	}
	return time.Duration(sec * float64(time.Second))
}

// kcatEvents reads a topic from the start with kcat and returns the events
// of one type keyed by the camera.
func kcatEvents(t *testing.T, brokers, topic, camera, typ string) []sink.Event {
	t.Helper()
	out, err := exec.Command("kcat", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-q",
		"-f", "%k\t%h\t%s\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v: %s", err, out)
	}
	var evs []sink.Event
	for _, line := range strings.Split(string(out), "\n") {
		key, rest, ok := strings.Cut(line, "\t")
		if !ok || key != camera {
			continue
		}
		headers, payload, _ := strings.Cut(rest, "\t")
		if !strings.Contains(headers, "type="+typ) {
			continue
		}
		var ev sink.Event
		if err := sink.ValidateJSON([]byte(payload)); err != nil {
			t.Errorf("%s message: %v", topic, err)
		}
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			t.Fatalf("kcat payload is not an event: %v: %q", err, payload)
		}
		if ev.CameraID != camera {
			t.Errorf("event key %s but camera_id %s", camera, ev.CameraID)
		}
		evs = append(evs, ev)
	}
	return evs
}
