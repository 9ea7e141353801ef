// Command ingestbench measures what ingest and recording cost per camera:
// CPU seconds per stream-hour of 1080p H.264 at 4 Mb/s, for 1, 10 and 50
// cameras, and the ratio to reading the same bytes from loopback alone.
//
//	go run ./benchmarks/ingestbench [-window 12s] [-cameras 1,10,50]
//
// The camera simulator serves one 1080p 4 Mb/s clip (made once with ffmpeg
// from the sample footage, cached under $MATTHAN_DEPS/cache) under N names,
// in a child process so that its CPU is not counted. For each N, three runs
// read the N streams over loopback RTSP/TCP, one after the other:
//
//   - loopback read: a plain RTSP client per stream that sets up an
//     interleaved TCP session and reads the socket into a buffer, without
//     looking at the bytes. It is the floor: the kernel's cost of moving the
//     bytes, which any RTSP reader pays. (ingest.Source with a nil
//     OnAccessUnit would not do as the floor: it still parses RTP and
//     reassembles access units, which is the cost under test.)
//   - ingest: one ingest.Source per stream, its OnAccessUnit only counting bytes;
//   - ingest + record: one ingest.Source per stream feeding a record.Recorder
//     that writes fMP4 segments into a temporary folder.
//
// Each run waits until every stream delivers, lets it settle, then measures
// this process's user+system CPU time (getrusage) over the window. CPU per
// stream-hour is scaled to 4 Mb/s by the bytes each run actually received,
// so a simulator that falls behind does not flatter the numbers; the table
// shows the rate received per camera too.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/camsim"
	"github.com/matthan/matthan/ingest/record"
)

// Measurement settings.
const (
	// nominalBitrate is the stream rate the costs are scaled to, bits/s.
	nominalBitrate = 4_000_000
	// sourceClip is the sample footage the 1080p clip is made from.
	sourceClip = "traffic_intersection_signals_cctv_day.mp4"
	// clipName is the cached 1080p clip; the name carries its settings.
	clipName = "ingestbench-1080p30-4M-20s.mp4"
	// startTimeout bounds how long every stream may take to deliver.
	startTimeout = 30 * time.Second
	// settle is how long a run goes on before the window opens: connections
	// made, first segments opened, caches warm.
	settle = 2 * time.Second
)

// childFlag makes the program the camera simulator: it serves the files
// that follow like `matthan camsim -listen 127.0.0.1:0`, printing the URLs,
// until its standard input closes.
const childFlag = "-camsim-child"

func main() {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		if err := serveChild(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "ingestbench camsim:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		os.Exit(1)
	}
}

func run() error {
	window := flag.Duration("window", 12*time.Second, "measured time of each run")
	counts := flag.String("cameras", "1,10,50", "camera counts, comma-separated")
	clip := flag.String("clip", "", "1080p H.264 `file` to serve (default: made from the sample footage and cached)")
	flag.Parse()
	var ns []int
	for s := range strings.SplitSeq(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-cameras %q: want positive counts separated by commas", *counts)
		}
		ns = append(ns, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	started := time.Now()
	if *clip == "" {
		var err error
		if *clip, err = makeClip(ctx); err != nil {
			return err
		}
	}
	rate, err := fileBitrate(*clip)
	if err != nil {
		return err
	}
	fmt.Printf("ingest + recording cost per camera: %s (%.2f Mb/s), loopback RTSP/TCP, camera simulator in a child process\n",
		filepath.Base(*clip), rate/1e6)
	fmt.Printf("%d CPUs, GOMAXPROCS %d, load %s, window %v per run\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), loadavg(), *window)
	fmt.Printf("%7s  %-16s %9s %8s %14s %9s\n", "cameras", "run", "Mb/s/cam", "CPU %", "CPU s/stream-h", "÷ read")

	for _, n := range ns {
		results, err := measureCameras(ctx, *clip, n, *window)
		if err != nil {
			return err
		}
		floor := results[0].perStreamHour()
		for _, r := range results {
			fmt.Printf("%7d  %-16s %9.2f %8.1f %14.1f %9.2f\n", n, r.name, r.mbpsPerCamera(), r.cpuPercent(),
				r.perStreamHour(), r.perStreamHour()/floor)
		}
	}
	fmt.Printf("\nCPU s/stream-h: this process's CPU seconds per camera-hour, scaled to %d Mb/s by the bytes received;\n"+
		"÷ read: the ratio to the plain loopback read of the same streams; CPU %%: of one core. Run took %v.\n",
		nominalBitrate/1_000_000, time.Since(started).Round(time.Second))
	return nil
}

// result is one measured run.
type result struct {
	name    string
	cameras int
	window  time.Duration
	cpu     time.Duration // this process's CPU time in the window
	bytes   int64         // received in the window, all cameras
}

// mbpsPerCamera is the rate each camera delivered, Mb/s.
func (r result) mbpsPerCamera() float64 {
	return float64(r.bytes) * 8 / r.window.Seconds() / float64(r.cameras) / 1e6
}

// cpuPercent is the CPU used, in percent of one core.
func (r result) cpuPercent() float64 {
	return 100 * r.cpu.Seconds() / r.window.Seconds()
}

// perStreamHour is the CPU seconds per hour of one nominalBitrate stream.
func (r result) perStreamHour() float64 {
	streamHours := float64(r.bytes) * 8 / nominalBitrate / 3600
	return r.cpu.Seconds() / streamHours
}

// measureCameras serves clip as n cameras from a child simulator and
// measures the three runs on them.
func measureCameras(ctx context.Context, clip string, n int, window time.Duration) ([]result, error) {
	dir, err := os.MkdirTemp("", "ingestbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := make([]string, n)
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("cam%03d.mp4", i+1))
		if err := os.Symlink(clip, files[i]); err != nil {
			return nil, err
		}
	}
	urls, stop, err := startChild(files)
	if err != nil {
		return nil, err
	}
	defer stop()

	runs := []struct {
		name string
		run  starter
	}{
		{"loopback read", runRawReaders},
		{"ingest", runSources(false)},
		{"ingest + record", runSources(true)},
	}
	var out []result
	for _, r := range runs {
		res, err := measure(ctx, r.name, urls, dir, window, r.run)
		if err != nil {
			return nil, fmt.Errorf("%d cameras, %s: %w", n, r.name, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// starter starts the readers of one run on urls, which add the bytes they
// receive to bytes, and run until ctx ends. ready waits until every reader
// receives; wait waits, after ctx ended, until they all stopped.
type starter func(ctx context.Context, urls []string, dir string, bytes *atomic.Int64) (ready func() error, wait func())

// measure starts one run, waits until it is ready and settled, and measures
// CPU and bytes over window.
func measure(ctx context.Context, name string, urls []string, dir string, window time.Duration, start starter) (result, error) {
	runCtx, cancel := context.WithCancel(ctx)
	var bytes atomic.Int64
	ready, wait := start(runCtx, urls, dir, &bytes)
	defer func() {
		cancel()
		wait()
	}()
	if err := ready(); err != nil {
		return result{}, err
	}
	if err := sleep(ctx, settle); err != nil {
		return result{}, err
	}
	cpu0, bytes0, t0 := cpuTime(), bytes.Load(), time.Now()
	if err := sleep(ctx, window); err != nil {
		return result{}, err
	}
	cpu1, bytes1, t1 := cpuTime(), bytes.Load(), time.Now()
	return result{name: name, cameras: len(urls), window: t1.Sub(t0), cpu: cpu1 - cpu0, bytes: bytes1 - bytes0}, nil
}

// runSources starts one ingest.Source per URL, each adding the NAL unit
// bytes it delivers to bytes, and with record a record.Recorder per camera
// under dir/rec. They stop when ctx ends; the returned function waits until
// every source has delivered.
func runSources(withRecorder bool) starter {
	return func(ctx context.Context, urls []string, dir string, bytes *atomic.Int64) (func() error, func()) {
		root := filepath.Join(dir, "rec")
		discard := slog.New(slog.DiscardHandler)
		var wg sync.WaitGroup
		sources := make([]*ingest.Source, len(urls))
		for i, u := range urls {
			id := fmt.Sprintf("cam%03d", i+1)
			count := func(au ingest.AccessUnit) {
				n := 0
				for _, b := range au.NALUs {
					n += len(b)
				}
				bytes.Add(int64(n))
			}
			src := &ingest.Source{CameraID: id, URL: u, Logger: discard, OnAccessUnit: count}
			if withRecorder {
				rec := &record.Recorder{Root: root, CameraID: id, Logger: discard}
				src.OnAccessUnit = func(au ingest.AccessUnit) {
					count(au)
					rec.Push(au)
				}
				wg.Go(func() { rec.Run(ctx) })
			}
			sources[i] = src
			wg.Go(func() { src.Run(ctx) })
		}
		wait := func() {
			wg.Wait()
			os.RemoveAll(root)
		}
		return func() error {
			deadline := time.Now().Add(startTimeout)
			for {
				waiting := 0
				for _, s := range sources {
					if s.Status().Frames == 0 {
						waiting++
					}
				}
				if waiting == 0 {
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("%d of %d sources delivered nothing in %v", waiting, len(sources), startTimeout)
				}
				if err := sleep(ctx, 100*time.Millisecond); err != nil {
					return err
				}
			}
		}, wait
	}
}

// runRawReaders starts one plain RTSP reader per URL, adding the bytes it
// reads to bytes, until ctx ends.
func runRawReaders(ctx context.Context, urls []string, _ string, bytes *atomic.Int64) (func() error, func()) {
	var started, wg sync.WaitGroup
	errc := make(chan error, len(urls))
	for _, u := range urls {
		started.Add(1)
		wg.Go(func() {
			err := readRaw(ctx, u, bytes, started.Done)
			if err != nil && ctx.Err() == nil {
				errc <- err
			}
		})
	}
	return func() error {
		done := make(chan struct{})
		go func() { started.Wait(); close(done) }()
		select {
		case <-done:
			select {
			case err := <-errc:
				return err
			default:
				return nil
			}
		case err := <-errc:
			return err
		case <-time.After(startTimeout):
			return errors.New("the loopback readers did not start")
		}
	}, wg.Wait
}

// readRaw plays rawURL over RTSP with interleaved TCP and reads the socket,
// counting the bytes, until ctx ends. It calls playing once the camera
// answered PLAY (or the reader failed).
func readRaw(ctx context.Context, rawURL string, bytes *atomic.Int64, playing func()) error {
	var once sync.Once
	defer once.Do(playing)
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	cseq := 0
	request := func(method, target, headers string) (map[string]string, []byte, error) {
		cseq++
		if _, err := fmt.Fprintf(conn, "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s\r\n", method, target, cseq, headers); err != nil {
			return nil, nil, err
		}
		status, err := br.ReadString('\n')
		if err != nil {
			return nil, nil, err
		}
		if !strings.HasPrefix(status, "RTSP/1.0 200") {
			return nil, nil, fmt.Errorf("%s: %s", method, strings.TrimSpace(status))
		}
		h := map[string]string{}
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return nil, nil, err
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok {
				h[strings.ToLower(k)] = strings.TrimSpace(v)
			}
		}
		n, _ := strconv.Atoi(h["content-length"])
		body := make([]byte, n)
		_, err = io.ReadFull(br, body)
		return h, body, err
	}
	h, sdp, err := request("DESCRIBE", rawURL, "Accept: application/sdp\r\n")
	if err != nil {
		return err
	}
	base := h["content-base"]
	if base == "" {
		base = rawURL + "/"
	}
	control := ""
	for line := range strings.SplitSeq(string(sdp), "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(line), "a=control:"); ok && c != "*" {
			control = c // the video media's: the clip has no other
		}
	}
	if !strings.Contains(control, "://") {
		control = strings.TrimSuffix(base, "/") + "/" + control
	}
	h, _, err = request("SETUP", control, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n")
	if err != nil {
		return err
	}
	session, _, _ := strings.Cut(h["session"], ";")
	if _, _, err := request("PLAY", base, "Session: "+session+"\r\n"); err != nil {
		return err
	}
	once.Do(playing)
	buf := make([]byte, 64<<10)
	for {
		n, err := br.Read(buf)
		bytes.Add(int64(n))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// startChild starts this program as the camera simulator of files and
// returns the stream URLs, in the order of files, and how to stop it.
func startChild(files []string) ([]string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(exe, append([]string{childFlag}, files...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() {
		stdin.Close() // the child stops when its input ends
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	sc := bufio.NewScanner(stdout)
	var urls []string
	for len(urls) < len(files) && sc.Scan() {
		urls = append(urls, sc.Text())
	}
	if len(urls) != len(files) {
		stop()
		return nil, nil, fmt.Errorf("camera simulator gave %d URLs for %d files", len(urls), len(files))
	}
	go io.Copy(io.Discard, stdout)
	return urls, stop, nil
}

// serveChild is the child process: camsim on a free loopback port until
// standard input ends.
func serveChild(files []string) error {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	srv := &camsim.Server{Listen: "127.0.0.1:0", Files: files}
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		for _, u := range srv.URLs() {
			fmt.Println(u)
		}
		return <-errc
	case err := <-errc:
		return err
	}
}

// makeClip returns the cached 1080p clip, encoding it first if needed.
func makeClip(ctx context.Context) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	deps := os.Getenv("MATTHAN_DEPS")
	if deps == "" {
		deps = filepath.Join(root, ".deps")
	}
	out := filepath.Join(deps, "cache", clipName)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	videos := os.Getenv("MATTHAN_VIDEO_DIR")
	if videos == "" {
		videos = filepath.Join(deps, "video")
	}
	in := filepath.Join(videos, sourceClip)
	if _, err := os.Stat(in); err != nil {
		return "", fmt.Errorf("sample footage missing (%w): run make deps", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "ingestbench: encoding %s (once; about a minute)\n", out)
	tmp := out + ".tmp.mp4"
	// Upscaled footage compresses too well to fill 4 Mb/s: light temporal
	// noise, like a real sensor's, makes the encoder spend the bit rate.
	cmd := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-y", "-i", in, "-t", "20", "-an",
		"-vf", "scale=1920:1080,noise=alls=10:allf=t", "-c:v", "libx264", "-preset", "veryfast",
		"-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M", "-g", "60", "-bf", "0", tmp)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("ffmpeg: %w: %s", err, b)
	}
	return out, os.Rename(tmp, out)
}

// fileBitrate returns the video bit rate of a file, from its size and ffprobe's duration.
func fileBitrate(path string) (float64, error) {
	b, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	if err != nil {
		return 0, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("ffprobe %s: duration %q", path, b)
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return float64(st.Size()) * 8 / d, nil
}

// moduleRoot returns the nearest folder above the working directory with a go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadavg returns the 1-minute load average, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
