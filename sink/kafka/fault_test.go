package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/sink"
)

// The fault test's load and outage.
const (
	faultCameras  = 4
	faultTick     = 20 * time.Millisecond // one event per camera per tick: 200 events/s
	faultOutage   = 30 * time.Second
	faultBefore   = 5 * time.Second // load before the broker stops
	faultAfter    = 5 * time.Second // load after it is back
	faultCatchUp  = 90 * time.Second
	faultPortLow  = 19500
	faultPortHigh = 19999
)

// kafkaSH runs deploy/kafka/kafka.sh with KAFKA_KEEP=1 (the broker keeps its
// data across a down and up) unless keep is false.
func kafkaSH(t *testing.T, keep bool, args ...string) error {
	t.Helper()
	script, err := filepath.Abs("../../deploy/kafka/kafka.sh")
	if err != nil {
		return err
	}
	cmd := exec.Command(script, args...)
	cmd.Env = append(os.Environ(), "KAFKA_KEEP=")
	if keep {
		cmd.Env = append(os.Environ(), "KAFKA_KEEP=1")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kafka.sh %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ownBroker starts a broker of the test's own on a free port in
// 19500-19999 and stops it, removing its data, when the test ends.
func ownBroker(t *testing.T) string {
	t.Helper()
	for range 20 {
		port := faultPortLow + rand.IntN(faultPortHigh-faultPortLow+1)
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		p := fmt.Sprint(port)
		start := time.Now()
		if err := kafkaSH(t, true, "up", p); err != nil {
			kafkaSH(t, false, "down", p)
			t.Fatal(err)
		}
		t.Logf("own broker on 127.0.0.1:%s ready in %v", p, time.Since(start).Round(time.Millisecond))
		t.Cleanup(func() {
			if err := kafkaSH(t, false, "down", p); err != nil {
				t.Error(err)
			}
		})
		return p
	}
	t.Fatal("no free port in 19500-19999")
	return ""
}

// faultRun is one fan-out under load through the outage.
type faultRun struct {
	name    string
	restart bool // restart the fan-out (new Fanout, same spool) in the middle of the outage
	topic   string
	dir     string
	broker  string
	log     *slog.Logger

	mu         sync.Mutex // held while publishing; a restart holds it (no events while down)
	fanout     *sink.Fanout
	writer     *Writer
	stopFanout func() error // ends Run (the spool is closed)
	stop       func() error // stopFanout, then closes the writer
	seq        [faultCameras]int
	produced   map[string]string // event id → camera/seq
	restarts   int
}

// start builds a Fanout with a Kafka writer on the run's spool and runs it.
// Callers hold r.mu.
func (r *faultRun) start() error {
	r.writer = &Writer{Brokers: []string{r.broker}, Topics: map[string]string{"detection.": r.topic},
		ClientID: "matthan-fault", WriteTimeout: 3 * time.Second}
	r.fanout = &sink.Fanout{Sinks: []sink.Writer{r.writer}, SpoolDir: r.dir, RetryMin: 100 * time.Millisecond,
		RetryMax: 2 * time.Second, Logger: r.log}
	if err := r.fanout.Open(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	f, w := r.fanout, r.writer
	go func() { done <- f.Run(ctx) }()
	r.stopFanout = func() error {
		r.stopFanout = nil
		cancel()
		return <-done
	}
	r.stop = func() error {
		r.stop = nil
		return errors.Join(r.stopFanout(), w.Close())
	}
	return nil
}

// publish sends one event per camera. Callers hold r.mu.
func (r *faultRun) publish() error {
	for c := range faultCameras {
		cam := fmt.Sprintf("cam-%d", c+1)
		e := sink.NewEvent(sink.TypeDetectionSummary, cam, time.Now())
		e.Node = "fault-test"
		e.Counts = map[string]int{"car": r.seq[c] % 7}
		e.Measures = map[string]float64{"seq": float64(r.seq[c])}
		if err := r.fanout.Publish(e); err != nil {
			return err
		}
		r.produced[e.ID] = fmt.Sprintf("%s/%d", cam, r.seq[c])
		r.seq[c]++
	}
	return nil
}

// TestFaultBrokerOutage stops a real broker for 30 s under a steady load of
// 200 events/s from 4 cameras, and starts it again: every event is in Kafka
// afterwards, each camera's in order, duplicates only from retries. One
// fan-out runs through the outage; another is restarted in its middle.
func TestFaultBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("the broker outage test takes about two minutes")
	}
	port := ownBroker(t)
	broker := "127.0.0.1:" + port
	tag := "f" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	runs := []*faultRun{
		{name: "through the outage"},
		{name: "fan-out restarted during the outage", restart: true},
	}
	for i, r := range runs {
		r.topic = fmt.Sprintf("%s.run%d.detections", tag, i)
		r.dir = t.TempDir()
		r.broker = broker
		r.log = log.With("run", r.name)
		r.produced = map[string]string{}
		r.mu.Lock()
		if err := r.start(); err != nil {
			t.Fatal(err)
		}
		r.mu.Unlock()
		t.Cleanup(func() { // after a failure: the fan-outs end before the broker goes
			if r.stop != nil {
				r.stop()
			}
		})
	}

	// The load: one goroutine per run, until loadCtx ends.
	loadCtx, stopLoad := context.WithCancel(t.Context())
	var load sync.WaitGroup
	loadErr := make(chan error, len(runs))
	for _, r := range runs {
		load.Go(func() {
			tick := time.NewTicker(faultTick)
			defer tick.Stop()
			for {
				select {
				case <-loadCtx.Done():
					return
				case <-tick.C:
				}
				r.mu.Lock()
				err := r.publish()
				r.mu.Unlock()
				if err != nil {
					loadErr <- fmt.Errorf("%s: %w", r.name, err)
					return
				}
			}
		})
	}
	defer func() { stopLoad(); load.Wait() }()

	time.Sleep(faultBefore)
	down := time.Now()
	if err := kafkaSH(t, true, "down", port); err != nil {
		t.Fatal(err)
	}
	t.Logf("broker stopped in %v", time.Since(down).Round(time.Millisecond))
	down = time.Now()
	time.Sleep(faultOutage / 2)
	var closing sync.WaitGroup
	defer closing.Wait()
	for _, r := range runs {
		if !r.restart {
			continue
		}
		r.mu.Lock()
		at := time.Now()
		if err := r.stopFanout(); err != nil {
			t.Errorf("%s: stop: %v", r.name, err)
		}
		old := r.writer
		if err := r.start(); err != nil {
			t.Fatalf("%s: start on the same spool: %v", r.name, err)
		}
		r.restarts++
		r.mu.Unlock()
		t.Logf("%s: restarted on the same spool in %v with the broker down", r.name, time.Since(at).Round(time.Millisecond))
		// kafka-go's Close waits for its own retries of the batch in flight:
		// close the old writer aside, so that the outage keeps its length.
		closing.Go(func() {
			at := time.Now()
			if err := old.Close(); err != nil {
				t.Logf("%s: closing the old writer: %v", r.name, err)
			}
			t.Logf("%s: the old Kafka writer closed in %v", r.name, time.Since(at).Round(time.Millisecond))
		})
	}
	time.Sleep(faultOutage - time.Since(down))
	up := time.Now()
	if err := kafkaSH(t, true, "up", port); err != nil {
		t.Fatal(err)
	}
	t.Logf("broker down for %v, back in %v", up.Sub(down).Round(time.Millisecond), time.Since(up).Round(time.Millisecond))
	time.Sleep(faultAfter)
	stopLoad()
	load.Wait()
	select {
	case err := <-loadErr:
		t.Fatalf("Publish refused an event: %v", err)
	default:
	}

	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			// Wait until every event produced is in the topic, then stop the fan-out.
			deadline := time.Now().Add(faultCatchUp)
			var msgs []kcatMessage
			for {
				msgs = consume(t, broker, r.topic)
				if distinct(msgs) >= len(r.produced) || time.Now().After(deadline) {
					break
				}
				time.Sleep(2 * time.Second)
			}
			if err := r.stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
			msgs = consume(t, broker, r.topic)
			checkDelivery(t, r, msgs)
		})
	}
}

// distinct counts the distinct event ids among msgs.
func distinct(msgs []kcatMessage) int {
	seen := map[string]bool{}
	for _, m := range msgs {
		var e struct {
			ID string `json:"id"`
		}
		if json.Unmarshal([]byte(m.Payload), &e) == nil {
			seen[e.ID] = true
		}
	}
	return len(seen)
}

// checkDelivery checks that msgs hold every event r produced, each camera's
// in order once duplicates are removed, and that every duplicate repeats an
// earlier message exactly.
func checkDelivery(t *testing.T, r *faultRun, msgs []kcatMessage) {
	t.Helper()
	first := map[string]string{} // id → payload
	next := map[string]int{}     // camera → next seq expected
	dups := 0
	for i, m := range msgs {
		var e sink.Event
		if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if p, ok := first[e.ID]; ok {
			dups++
			if p != m.Payload {
				t.Errorf("duplicate of %s differs:\n%s\n%s", e.ID, p, m.Payload)
			}
			continue
		}
		first[e.ID] = m.Payload
		want, ok := r.produced[e.ID]
		if !ok {
			t.Errorf("message %d: event %s was never produced", i, e.ID)
			continue
		}
		if m.Key != e.CameraID {
			t.Errorf("message %d: key %q, want %q", i, m.Key, e.CameraID)
		}
		seq := int(e.Measures["seq"])
		if got := fmt.Sprintf("%s/%d", e.CameraID, seq); got != want {
			t.Errorf("message %d: %s, produced as %s", i, got, want)
		}
		if seq != next[e.CameraID] {
			t.Errorf("message %d: %s seq %d after %d: order lost or events missing", i, e.CameraID, seq, next[e.CameraID]-1)
		}
		next[e.CameraID] = seq + 1
	}
	missing := 0
	for id := range r.produced {
		if _, ok := first[id]; !ok {
			missing++
		}
	}
	t.Logf("produced %d events (%d cameras, restarts %d); Kafka holds %d messages: %d distinct, %d duplicates from retries, %d missing",
		len(r.produced), faultCameras, r.restarts, len(msgs), len(first), dups, missing)
	if missing > 0 {
		t.Errorf("%d events produced are not in Kafka", missing)
	}
}
