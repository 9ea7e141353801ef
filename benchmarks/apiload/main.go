// Command apiload measures the API under load against a running engine
// (issue 7): the camera simulator and `matthan run` as child processes on
// loopback, two cameras, an ICT administrator made with `matthan admin
// create-ict-admin`. It measures the analysis rate (frames through the
// detector per second, from /metrics) without load, then runs concurrent
// clients reading events, statistics and cameras, and reports requests,
// errors, p50/p99 latency and the analysis rate under load ÷ without.
//
//	go run ./benchmarks/apiload [-bin bin/matthan] [-clients 200] [-duration 60s] [-idle 20s] [-out benchmarks/results/apiload.json]
//
// The engine is a child process because cmd/matthan/internal/core cannot
// be imported from here.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// Bounds of the run.
const (
	// startTimeout bounds how long the simulator and the engine may take
	// to listen.
	startTimeout = 60 * time.Second
	// analysisTimeout bounds the wait until every camera is analysed (the
	// clips' keyframes are up to 10.5 s apart, and models load first).
	analysisTimeout = 120 * time.Second
	// stopGrace is how long a child gets to exit after SIGTERM.
	stopGrace = 15 * time.Second
	// adminPassword is the benchmark administrator's password.
	adminPassword = "Tai-kiem-tra-2026!"
)

// clips are the two cameras' footage.
var clips = []string{"traffic_intersection_signals_cctv_day.mp4", "traffic_road_overhead_both_directions_dusk.mp4"}

// cameraIDs name the cameras of clips.
var cameraIDs = []string{"traffic-intersection", "traffic-road"}

// Result is benchmarks/results/apiload.json.
type Result struct {
	When           time.Time           `json:"when"`
	CPUs           int                 `json:"cpus"`
	LoadAtStart    string              `json:"load_at_start"`
	Cameras        []string            `json:"cameras"`
	Clients        int                 `json:"clients"`
	IdleSeconds    float64             `json:"idle_seconds"`
	LoadSeconds    float64             `json:"load_seconds"`
	Requests       int64               `json:"requests"`
	Errors         int64               `json:"errors"`
	ErrorSamples   []string            `json:"error_samples,omitempty"`
	RequestsPerSec float64             `json:"requests_per_second"`
	P50ms          float64             `json:"p50_ms"`
	P99ms          float64             `json:"p99_ms"`
	MaxMs          float64             `json:"max_ms"`
	Endpoints      map[string]Endpoint `json:"endpoints"`
	AnalysedIdle   float64             `json:"analysed_per_second_idle"`
	AnalysedLoad   float64             `json:"analysed_per_second_load"`
	AnalysisRatio  float64             `json:"analysis_ratio"`
	AnalysisMetric string              `json:"analysis_metric"`
}

// Endpoint is one route's share of the load.
type Endpoint struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
}

// analysisMetric is the counter whose rate is the analysis rate.
const analysisMetric = "matthan_frames_inferred_total"

func main() {
	var (
		bin      = flag.String("bin", "bin/matthan", "the matthan `binary`")
		videoDir = flag.String("video", envOr("MATTHAN_VIDEO_DIR", ".deps/video"), "`folder` of the footage")
		clients  = flag.Int("clients", 200, "concurrent API clients")
		duration = flag.Duration("duration", 60*time.Second, "how long the clients run")
		idle     = flag.Duration("idle", 20*time.Second, "how long the analysis rate is measured without load")
		out      = flag.String("out", "benchmarks/results/apiload.json", "result `file` (empty: none)")
		keep     = flag.Bool("keep", false, "keep the data folder and the children's logs")
	)
	flag.Parse()
	if err := run(*bin, *videoDir, *clients, *duration, *idle, *out, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(bin, videoDir string, clients int, duration, idle time.Duration, out string, keep bool) error {
	if clients < 1 || duration <= 0 || idle <= 0 {
		return errors.New("-clients, -duration and -idle must be positive")
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "apiload-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "data folder:", data)
	} else {
		defer os.RemoveAll(data)
	}
	res := Result{When: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadAtStart: loadAvg(), Cameras: cameraIDs,
		Clients: clients, AnalysisMetric: analysisMetric}

	// The administrator, offline, before the engine opens the store.
	adm := exec.Command(bin, "admin", "create-ict-admin", "-data", data, "-user", "admin")
	adm.Env = append(os.Environ(), "MATTHAN_ADMIN_PASSWORD="+adminPassword)
	if b, err := adm.CombinedOutput(); err != nil {
		return fmt.Errorf("create admin: %v: %s", err, b)
	}

	addrs := freeAddrs(2)
	simAddr, apiAddr := addrs[0], addrs[1]
	args := []string{"camsim", "-listen", simAddr}
	for _, c := range clips {
		args = append(args, filepath.Join(videoDir, c))
	}
	sim, err := start(bin, filepath.Join(data, "camsim.log"), args...)
	if err != nil {
		return err
	}
	defer sim.stop()
	if err := waitListen(simAddr, sim); err != nil {
		return fmt.Errorf("camsim: %w (log %s)", err, sim.log)
	}
	args = []string{"run", "-data", data, "-listen", apiAddr, "-log-level", "warn"}
	for i, c := range clips {
		args = append(args, "-camera", cameraIDs[i]+"=rtsp://"+simAddr+"/"+strings.SplitN(c, ".", 2)[0])
	}
	eng, err := start(bin, filepath.Join(data, "engine.log"), args...)
	if err != nil {
		return err
	}
	defer eng.stop()
	if err := waitListen(apiAddr, eng); err != nil {
		return fmt.Errorf("engine: %w (log %s)", err, eng.log)
	}
	base := "http://" + apiAddr

	fmt.Fprintln(os.Stderr, "waiting until both cameras are analysed…")
	if err := waitAnalysis(base, eng); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "measuring the analysis rate for %s without load…\n", idle)
	if res.AnalysedIdle, err = analysisRate(base, idle, nil); err != nil {
		return err
	}
	token, err := login(base)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d clients for %s…\n", clients, duration)
	var lr loadResult
	res.AnalysedLoad, err = analysisRate(base, duration, func(ctx context.Context) { lr = load(ctx, base, token, clients) })
	if err != nil {
		return err
	}
	res.IdleSeconds, res.LoadSeconds = idle.Seconds(), lr.elapsed.Seconds()
	lr.fill(&res)
	if res.AnalysedIdle > 0 {
		res.AnalysisRatio = res.AnalysedLoad / res.AnalysedIdle
	}
	if err := eng.alive(); err != nil {
		return fmt.Errorf("engine: %w (log %s)", err, eng.log)
	}
	printTable(os.Stdout, res)
	if out != "" {
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d errors (first: %v)", res.Errors, res.ErrorSamples)
	}
	return nil
}

// child is a started child process.
type child struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func start(bin, logPath string, args ...string) (*child, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	c := &child{cmd: exec.Command(bin, args...), log: logPath, done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = f, f
	if err := c.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	go func() {
		c.err = c.cmd.Wait()
		f.Close()
		close(c.done)
	}()
	return c, nil
}

// alive returns an error when the child has exited.
func (c *child) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("exited: %v", c.err)
	default:
		return nil
	}
}

// stop sends SIGTERM, then SIGKILL after stopGrace, and waits.
func (c *child) stop() {
	if c.alive() != nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(stopGrace):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// freeAddrs returns n distinct loopback addresses nothing listens on now.
func freeAddrs(n int) []string {
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().String())
	}
	return out
}

func waitListen(addr string, c *child) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if err := c.alive(); err != nil {
			return err
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("not listening on %s after %s", addr, startTimeout)
}

// analysed returns the analysis counter of every camera.
func analysed(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, analysisMetric) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: %q: %w", line, err)
		}
		out[line[len(analysisMetric):i]] += v
	}
	return out, sc.Err()
}

func total(m map[string]float64) (t float64) {
	for _, v := range m {
		t += v
	}
	return t
}

// waitAnalysis waits until every camera's counter has grown.
func waitAnalysis(base string, eng *child) error {
	first, err := analysed(base)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(analysisTimeout)
	for time.Now().Before(deadline) {
		if err := eng.alive(); err != nil {
			return fmt.Errorf("engine: %w (log %s)", err, eng.log)
		}
		time.Sleep(time.Second)
		now, err := analysed(base)
		if err != nil {
			return err
		}
		grown := 0
		for k, v := range now {
			if v > first[k] {
				grown++
			}
		}
		if grown >= len(cameraIDs) {
			return nil
		}
	}
	return fmt.Errorf("the cameras were not all analysed within %s (log %s)", analysisTimeout, eng.log)
}

// analysisRate is the analysis counter's rate over d; with during set, it
// runs during that time (and d is its duration).
func analysisRate(base string, d time.Duration, during func(context.Context)) (float64, error) {
	a, err := analysed(base)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if during != nil {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		during(ctx)
		cancel()
	} else {
		time.Sleep(d)
	}
	b, err := analysed(base)
	if err != nil {
		return 0, err
	}
	return (total(b) - total(a)) / time.Since(t0).Seconds(), nil
}

func login(base string) (string, error) {
	body := `{"username":"admin","password":"` + adminPassword + `"}`
	resp, err := http.Post(base+"/api/v1/login", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Token == "" {
		return "", fmt.Errorf("login: %s: %s", resp.Status, b)
	}
	return out.Token, nil
}

// loadResult is what the clients measured.
type loadResult struct {
	elapsed time.Duration
	lat     map[string][]time.Duration // by endpoint
	errs    map[string]int64
	samples []string
}

// load runs clients until ctx ends, each looping over the three reads
// with the administrator's bearer token on its own connection.
func load(ctx context.Context, base, token string, clients int) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	hour := time.Now().UTC().Truncate(time.Hour)
	statsRange := "&from=" + hour.Add(-24*time.Hour).Format(time.RFC3339) + "&to=" + hour.Add(time.Hour).Format(time.RFC3339)
	names := []string{"events", "stats", "cameras"}
	type clientResult struct {
		lat     [3][]time.Duration
		errs    [3]int64
		samples []string
	}
	results := make([]clientResult, clients)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			r := &results[i]
			paths := []string{"/api/v1/events?limit=50", "/api/v1/stats?camera=" + cameraIDs[i%len(cameraIDs)] + statsRange, "/api/v1/cameras"}
			for n := 0; ctx.Err() == nil; n++ {
				k := n % len(paths)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+paths[k], nil)
				req.Header.Set("Authorization", "Bearer "+token)
				s := time.Now()
				resp, err := hc.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: %s", names[k], resp.Status)
					}
				}
				if ctx.Err() != nil {
					break // cut by the end of the run: not counted
				}
				if err != nil {
					r.errs[k]++
					if len(r.samples) < 3 {
						r.samples = append(r.samples, err.Error())
					}
					continue
				}
				r.lat[k] = append(r.lat[k], time.Since(s))
			}
		})
	}
	wg.Wait()
	lr := loadResult{elapsed: time.Since(t0), lat: map[string][]time.Duration{}, errs: map[string]int64{}}
	for _, r := range results {
		for k, n := range names {
			lr.lat[n] = append(lr.lat[n], r.lat[k]...)
			lr.errs[n] += r.errs[k]
		}
		if len(lr.samples) < 5 {
			lr.samples = append(lr.samples, r.samples...)
		}
	}
	return lr
}

func (lr loadResult) fill(res *Result) {
	var all []time.Duration
	res.Endpoints = map[string]Endpoint{}
	for n, l := range lr.lat {
		slices.Sort(l)
		all = append(all, l...)
		res.Endpoints[n] = Endpoint{Requests: int64(len(l)) + lr.errs[n], Errors: lr.errs[n], P50ms: pct(l, 0.50), P99ms: pct(l, 0.99)}
		res.Requests += int64(len(l)) + lr.errs[n]
		res.Errors += lr.errs[n]
	}
	slices.Sort(all)
	res.P50ms, res.P99ms = pct(all, 0.50), pct(all, 0.99)
	if len(all) > 0 {
		res.MaxMs = ms(all[len(all)-1])
	}
	res.RequestsPerSec = float64(res.Requests) / lr.elapsed.Seconds()
	if len(lr.samples) > 5 {
		lr.samples = lr.samples[:5]
	}
	res.ErrorSamples = lr.samples
}

// pct is the q quantile of sorted l in milliseconds (nearest rank).
func pct(l []time.Duration, q float64) float64 {
	if len(l) == 0 {
		return 0
	}
	i := int(q*float64(len(l))+0.5) - 1
	return ms(l[min(max(i, 0), len(l)-1)])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func printTable(w io.Writer, r Result) {
	fmt.Fprintf(w, "API load: %d clients × %.0f s against the engine with %d cameras (host %d CPUs, load %s at start)\n\n",
		r.Clients, r.LoadSeconds, len(r.Cameras), r.CPUs, r.LoadAtStart)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\trequests\terrors\tp50 ms\tp99 ms\t")
	for _, n := range []string{"events", "stats", "cameras"} {
		e := r.Endpoints[n]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t\n", n, e.Requests, e.Errors, e.P50ms, e.P99ms)
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%.1f\t%.1f\t\n", r.Requests, r.Errors, r.P50ms, r.P99ms)
	tw.Flush()
	fmt.Fprintf(w, "\nrequests/s %.0f, max latency %.0f ms\n", r.RequestsPerSec, r.MaxMs)
	fmt.Fprintf(w, "analysis (%s/s): %.2f without load, %.2f under load: ratio %.3f\n",
		r.AnalysisMetric, r.AnalysedIdle, r.AnalysedLoad, r.AnalysisRatio)
}
