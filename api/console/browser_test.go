package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/matthan/matthan/deploy/testenv"
)

// The browser tests drive Debian's chromium with playwright-core (installed
// by "make deps" into e2e/node_modules) through the specs in e2e/*.spec.mjs,
// against the real engine streaming the demo footage.
const (
	chromiumPath = "/usr/bin/chromium"
	// screenshotsEnv, set to 1, writes the screenshots into the repository's
	// docs/console/screenshots instead of a temporary folder.
	screenshotsEnv = "MATTHAN_SCREENSHOTS"
	// adminPassword is the ICT administrator's, created with the CLI.
	adminPassword = "Quan-tri-2026-ICT!"
)

// The demo cameras the browser tests run, from deploy/demo.yaml (names,
// places, systems and scenes of the demo), with their clips: the
// residential street raises illegal-parking violations, the intersection
// counts vehicles, the model house raises smoke and fire alerts, and the
// hillside watches a forest.
const (
	cameraViolation = "traffic-residential"
	cameraCount     = "traffic-intersection"
	cameraFire      = "fire-smoke"
	cameraForest    = "wildfire-smoke"
)

var demoClips = []string{
	"traffic_residential_street_cctv_parked_cars.mp4",
	"traffic_intersection_signals_cctv_day.mp4",
	"fire_smoke_model_house_garden_day.mp4",
	"wildfire_smoke_hillside_dusk.h264.mp4",
}

// The agencies and accounts of the specs; the Go test creates them. The
// police get a grant on the demo's traffic system; the forest rangers
// manage the demo's forest-fire system.
const (
	trafficSystem   = "dalat-traffic"
	forestSystem    = "lamdong-forest-fire"
	policeAgency    = "cong-an-tinh"
	rangerAgency    = "kiem-lam"
	policeUser      = "csgt.an"
	policePassword  = "Tuan-tra-2026-An!"
	newcomerUser    = "csgt.binh"
	newcomerFirstPW = "Mat-khau-dau-2026!"
	rangerUser      = "kiemlam.cuong"
	rangerPassword  = "Rung-xanh-2026-Cuong!"
)

// TestBrowser runs the console end to end: it builds the engine, streams
// the demo footage with the camera simulator, runs the engine on the demo
// configuration, sets up agencies, users and grants through the API,
// waits for a violation with its snapshot, a smoke or fire alert and a
// traffic count, and runs the Playwright specs (node --test) in headless
// Chromium. They sign in, use every page and write the screenshots of
// docs/console.md.
func TestBrowser(t *testing.T) {
	root := testenv.Root(t)
	e2e := filepath.Join(root, "api", "console", "e2e")
	requireBrowser(t, e2e)
	engineEnv := []string{
		"MATTHAN_ONNXRUNTIME_LIB=" + testenv.ONNXRuntime(t),
		"MATTHAN_CHDB_LIB=" + testenv.CHDB(t),
		"MATTHAN_MODELS_DIR=" + testenv.ModelsDir(t),
	}
	clips := make([]string, len(demoClips))
	for i, c := range demoClips {
		clips[i] = testenv.Clip(t, c)
	}
	tmp := t.TempDir()
	shots := filepath.Join(tmp, "screenshots")
	if os.Getenv(screenshotsEnv) == "1" {
		shots = filepath.Join(root, "docs", "console", "screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := buildEngine(t, ctx, root, tmp)
	camsim := startCamsim(t, bin, tmp, clips)
	config := demoConfig(t, root, tmp, camsim)
	data := filepath.Join(tmp, "data")
	createAdmin(t, bin, data, engineEnv)
	base := startEngine(t, bin, config, data, engineEnv)

	admin := login(t, ctx, base, "admin", adminPassword)
	waitOnline(t, ctx, admin)
	setUp(t, ctx, admin)
	violation := waitForEvidence(t, ctx, admin, cameraViolation, "violation.", 3*time.Minute)
	alert := waitForEvidence(t, ctx, admin, cameraFire, "alert.", 2*time.Minute)
	waitForCounts(t, ctx, admin, cameraCount, 2*time.Minute)
	t.Logf("ready: violation %s (%s), alert %s (%s)", violation.ID, violation.Type, alert.ID, alert.Type)

	runSpecs(t, e2e, map[string]string{
		"BASE_URL":          base,
		"CHROMIUM":          chromiumPath,
		"SCREENSHOTS":       shots,
		"ADMIN_USER":        "admin",
		"ADMIN_PASSWORD":    adminPassword,
		"POLICE_USER":       policeUser,
		"POLICE_PASSWORD":   policePassword,
		"NEWCOMER_USER":     newcomerUser,
		"NEWCOMER_PASSWORD": newcomerFirstPW,
		"RANGER_USER":       rangerUser,
		"RANGER_PASSWORD":   rangerPassword,
		"CAMERA_VIOLATION":  cameraViolation,
		"CAMERA_COUNT":      cameraCount,
		"CAMERA_FIRE":       cameraFire,
		"CAMERA_FOREST":     cameraForest,
		"VIOLATION_ID":      violation.ID,
		"ALERT_ID":          alert.ID,
	})
}

// requireBrowser fails the test, saying how to get them, when chromium,
// node or playwright-core are missing: make test must run the browser
// tests, never skip them.
func requireBrowser(t *testing.T, e2e string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing (%v): run \"make deps\" (it installs the Debian package chromium)", chromiumPath, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH: run \"make deps\" (it installs npm and node)")
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is missing from %s/node_modules: run \"make deps\" (npm ci there)", e2e)
	}
}

// buildEngine builds the binary under test like "make build" (no race
// detector: it is the product, and the tests of its packages run with it).
func buildEngine(t *testing.T, ctx context.Context, root, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "matthan")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/matthan")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/matthan: %v\n%s", err, out)
	}
	return bin
}

// process is a child process whose output goes to a log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start runs bin with args and env added to the test's environment, and
// stops it (SIGTERM, then SIGKILL after 15 s) when the test ends.
func start(t *testing.T, name, logPath, bin string, env []string, args ...string) *process {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not stop within 15 s of SIGTERM", name)
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail returns the last lines of the process's log.
func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return fmt.Sprintf("--- last lines of %s (%s)\n%s", p.name, p.log, strings.Join(lines, "\n"))
}

// startCamsim streams the clips over RTSP and returns the simulator's
// address once it serves them all.
func startCamsim(t *testing.T, bin, dir string, clips []string) string {
	t.Helper()
	addr := testenv.FreeAddr(t)
	p := start(t, "camsim", filepath.Join(dir, "camsim.log"), bin, nil, append([]string{"camsim", "-listen", addr}, clips...)...)
	// camsim prints one URL per clip on standard output when it is ready.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("the camera simulator exited\n%s", p.tail())
		}
		b, _ := os.ReadFile(p.log)
		served := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "rtsp://"+addr+"/") {
				served++
			}
		}
		if served == len(clips) {
			return addr
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the camera simulator did not serve its streams within 30 s\n%s", p.tail())
	return ""
}

// demoConfig writes the engine's configuration: deploy/demo.yaml with the
// demo cameras whose clips the simulator streams, their URLs pointing at
// it and their scene files found from the repository, as deploy/demo.sh
// does for make run.
func demoConfig(t *testing.T, root, dir, camsim string) string {
	t.Helper()
	src := filepath.Join(root, "deploy", "demo.yaml")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("the demo configuration: %v", err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	streams := map[string]bool{}
	for _, c := range demoClips {
		streams[strings.SplitN(c, ".", 2)[0]] = true
	}
	list, _ := cfg["cameras"].([]any)
	var kept []any
	found := map[string]bool{}
	for _, item := range list {
		cam, _ := item.(map[string]any)
		u, err := url.Parse(fmt.Sprint(cam["url"]))
		if err != nil || !streams[path.Base(u.Path)] {
			continue
		}
		u.Host = camsim
		cam["url"] = u.String()
		if scene, ok := cam["scene"].(string); ok && !filepath.IsAbs(scene) {
			cam["scene"] = filepath.Join(root, scene)
		}
		found[fmt.Sprint(cam["id"])] = true
		kept = append(kept, cam)
	}
	for _, id := range []string{cameraViolation, cameraCount, cameraFire, cameraForest} {
		if !found[id] {
			t.Fatalf("%s has no camera %q streaming one of %v", src, id, demoClips)
		}
	}
	cfg["cameras"] = kept
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// createAdmin makes the ICT department and its administrator with the CLI,
// as deploy/demo.sh does.
func createAdmin(t *testing.T, bin, data string, env []string) {
	t.Helper()
	cmd := exec.Command(bin, "admin", "create-ict-admin", "-data", data, "-user", "admin", "-name", "Quản trị viên Sở TT&TT")
	cmd.Env = append(append(os.Environ(), env...), "MATTHAN_ADMIN_PASSWORD="+adminPassword)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("matthan admin create-ict-admin: %v\n%s", err, out)
	}
}

// startEngine runs "matthan run" with the configuration and returns its
// base URL once /healthz answers.
func startEngine(t *testing.T, bin, config, data string, env []string) string {
	t.Helper()
	listen := testenv.FreeAddr(t)
	p := start(t, "engine", filepath.Join(filepath.Dir(data), "engine.log"), bin, env,
		"run", "-config", config, "-data", data, "-listen", listen)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(p.tail())
		}
	})
	base := "http://" + listen
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("the engine exited\n%s", p.tail())
		}
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("the engine did not answer /healthz within a minute\n%s", p.tail())
	return ""
}

// client calls the API with a bearer token.
type client struct {
	base, token string
}

// apiError is a call the API refused.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// call sends body (when not nil) as JSON and decodes the answer into out
// (when not nil).
func (c *client) call(ctx context.Context, method, route string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+route, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, route, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, route, err)
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %w", method, route, &apiError{res.StatusCode, strings.TrimSpace(string(b))})
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, route, err)
		}
	}
	return nil
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// login signs in and returns a client with the session's token.
func login(t *testing.T, ctx context.Context, base, user, password string) *client {
	t.Helper()
	var s struct {
		Token      string `json:"token"`
		Restricted bool   `json:"restricted"`
	}
	c := &client{base: base}
	must(t, c.call(ctx, "POST", "/api/v1/login", map[string]string{"username": user, "password": password}, &s))
	c.token = s.Token
	return c
}

// camera is the part of a camera view the test reads.
type camera struct {
	ID       string `json:"id"`
	SystemID string `json:"system_id"`
	Status   *struct {
		State string `json:"state"`
	} `json:"status"`
}

// waitOnline waits until the engine runs every camera and each is online.
func waitOnline(t *testing.T, ctx context.Context, admin *client) {
	t.Helper()
	for {
		var list struct {
			Cameras []camera `json:"cameras"`
		}
		must(t, admin.call(ctx, "GET", "/api/v1/cameras", nil, &list))
		online := 0
		for _, c := range list.Cameras {
			if c.Status != nil && c.Status.State == "online" {
				online++
			}
		}
		if online == len(demoClips) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("only %d of %d cameras came online", online, len(demoClips))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// setUp registers what the specs need through the API, as an ICT
// administrator would through the console: the provincial police, whose
// operators are granted the demo's traffic system, and the forest rangers,
// who manage the demo's forest-fire system; an operator of each, and a new
// police account still holding its first password.
func setUp(t *testing.T, ctx context.Context, admin *client) {
	t.Helper()
	must(t, admin.call(ctx, "POST", "/api/v1/agencies", map[string]any{
		"id": policeAgency, "name": "Công an tỉnh Lâm Đồng", "functions": []string{"security_order", "traffic_safety"}}, nil))
	must(t, admin.call(ctx, "POST", "/api/v1/agencies", map[string]any{
		"id": rangerAgency, "name": "Chi cục Kiểm lâm tỉnh Lâm Đồng", "functions": []string{"forest_fire", "rescue"}}, nil))
	var systems struct {
		Systems []system `json:"systems"`
	}
	must(t, admin.call(ctx, "GET", "/api/v1/systems", nil, &systems))
	i := slices.IndexFunc(systems.Systems, func(y system) bool { return y.ID == forestSystem })
	if i < 0 {
		t.Fatalf("the engine registered no system %q (deploy/demo.yaml)", forestSystem)
	}
	forest := systems.Systems[i]
	must(t, admin.call(ctx, "PUT", "/api/v1/systems/"+forestSystem, map[string]any{
		"name": forest.Name, "tier": forest.Tier, "managing_agency": rangerAgency}, nil))
	year := time.Now().Add(365 * 24 * time.Hour).UTC().Format(time.RFC3339)
	must(t, admin.call(ctx, "POST", "/api/v1/grants", map[string]any{
		"agency_id": policeAgency, "system_id": trafficSystem, "purpose": "traffic_safety", "expires": year,
		"capabilities": []string{"live_view", "playback", "events", "statistics", "export"}}, nil))
	users := []struct{ agency, user, name, first, final string }{
		{policeAgency, policeUser, "Nguyễn Văn An", "Mat-khau-dau-An-2026!", policePassword},
		{policeAgency, newcomerUser, "Trần Thị Bình", newcomerFirstPW, ""},
		{rangerAgency, rangerUser, "Lê Mạnh Cường", "Mat-khau-dau-Cuong-2026!", rangerPassword},
	}
	for _, u := range users {
		first := u.first
		must(t, admin.call(ctx, "POST", "/api/v1/users", map[string]any{"agency_id": u.agency, "username": u.user,
			"display_name": u.name, "role": "operator", "password": first}, nil))
		if u.final == "" {
			continue // the sign-in spec changes it through the console
		}
		c := login(t, ctx, admin.base, u.user, first)
		must(t, c.call(ctx, "POST", "/api/v1/password", map[string]string{"old_password": first, "new_password": u.final}, nil))
	}
}

// system is the part of a camera system the test reads.
type system struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Tier int    `json:"tier"`
}

// event is the part of an event the test reads.
type event struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Evidence *struct {
		Snapshot string `json:"snapshot_sha256"`
	} `json:"evidence"`
}

// waitForEvidence waits up to within for an event of the camera whose
// type starts with prefix and that kept a snapshot.
func waitForEvidence(t *testing.T, ctx context.Context, admin *client, camera, prefix string, within time.Duration) event {
	t.Helper()
	deadline := time.Now().Add(within)
	q := url.Values{"camera": {camera}, "type": {prefix}, "limit": {"1000"}}
	for {
		var list struct {
			Events []event `json:"events"`
		}
		must(t, admin.call(ctx, "GET", "/api/v1/events?"+q.Encode(), nil, &list))
		for _, e := range list.Events {
			if strings.HasPrefix(e.Type, prefix) && e.Evidence != nil && e.Evidence.Snapshot != "" {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event with a snapshot from camera %s within %s (its demo scene should raise one)", prefix, camera, within)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s event of camera %s: %v", prefix, camera, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// waitForCounts waits up to within for the traffic statistics of the
// camera to count a vehicle (the statistics page draws them).
func waitForCounts(t *testing.T, ctx context.Context, admin *client, camera string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	// Hours in Asia/Ho_Chi_Minh (UTC+7) start on UTC hours.
	hour := time.Now().UTC().Truncate(time.Hour)
	q := url.Values{"camera": {camera}, "bucket": {"1h"},
		"from": {hour.Add(-24 * time.Hour).Format(time.RFC3339)}, "to": {hour.Add(2 * time.Hour).Format(time.RFC3339)}}
	for {
		var stats struct {
			Rows []struct {
				Total int `json:"total"`
			} `json:"rows"`
		}
		must(t, admin.call(ctx, "GET", "/api/v1/stats?"+q.Encode(), nil, &stats))
		for _, r := range stats.Rows {
			if r.Total > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the traffic statistics of camera %s counted nothing within %s (the demo scene's counting lines should)", camera, within)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no traffic statistics of camera %s: %v", camera, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// specsTimeout bounds the node run: the specs take about two minutes.
const specsTimeout = 10 * time.Minute

// runSpecs runs every e2e/*.spec.mjs, one file at a time, and fails the
// test with node's output when a spec fails.
func runSpecs(t *testing.T, e2e string, env map[string]string) {
	t.Helper()
	specs, err := filepath.Glob(filepath.Join(e2e, "*.spec.mjs"))
	if err != nil || len(specs) == 0 {
		t.Fatalf("no specs in %s (%v)", e2e, err)
	}
	slices.Sort(specs)
	ctx, cancel := context.WithTimeout(context.Background(), specsTimeout)
	defer cancel()
	args := []string{"--test", "--test-concurrency=1", "--test-reporter=spec"}
	cmd := exec.CommandContext(ctx, "node", append(args, specs...)...)
	cmd.Dir = e2e
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the browser specs did not finish within %s; screenshots in %s\n%s", specsTimeout, env["SCREENSHOTS"], out)
	case err != nil:
		t.Fatalf("browser specs failed (%v); screenshots in %s\n%s", err, env["SCREENSHOTS"], out)
	}
	t.Logf("browser specs passed; screenshots in %s\n%s", env["SCREENSHOTS"], out)
}
