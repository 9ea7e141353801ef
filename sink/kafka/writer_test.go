package kafka

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/goleak"

	"github.com/matthan/matthan/sink"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// brokers returns the broker the tests use: a real Kafka started by make test.
func brokers(t *testing.T) []string {
	t.Helper()
	b := os.Getenv("MATTHAN_KAFKA_BROKERS")
	if b == "" {
		t.Fatal("MATTHAN_KAFKA_BROKERS is not set: run the tests with make test, or make kafka-up and MATTHAN_KAFKA_BROKERS=127.0.0.1:9092")
	}
	return strings.Split(b, ",")
}

// kcatMessage is one message as kcat -J prints it.
type kcatMessage struct {
	Topic   string   `json:"topic"`
	Key     string   `json:"key"`
	Headers []string `json:"headers"` // key, value, key, value, ...
	Payload string   `json:"payload"`
}

// consume reads every message of topic with kcat, an independent client.
func consume(t *testing.T, broker, topic string) []kcatMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", "-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v: %s", topic, err, stderr.String())
	}
	var msgs []kcatMessage
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m kcatMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("kcat output %q: %v", sc.Text(), err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func TestWriterRoundTrip(t *testing.T) {
	bs := brokers(t)
	now := time.Now().UTC()
	for _, compression := range []string{"lz4", "snappy", "none"} {
		t.Run(compression, func(t *testing.T) {
			run := "t" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
			topics := map[string]string{}
			for prefix, topic := range DefaultTopics() {
				topics[prefix] = run + "." + topic
			}
			w := &Writer{Brokers: bs, Topics: topics, FallbackTopic: run + ".other", Compression: compression, ClientID: "matthan-test"}
			defer w.Close()

			mk := func(typ, camera string) sink.Event {
				e := sink.NewEvent(typ, camera, now)
				e.Node = "node-t"
				return e
			}
			red := mk(sink.TypeViolationRedLight, "cam-1")
			red.Object = &sink.Object{TrackID: 7, Class: "car", Confidence: 0.8, Box: [4]float32{0.1, 0.2, 0.3, 0.4}}
			summary := mk(sink.TypeDetectionSummary, "cam-1")
			summary.Counts = map[string]int{"car": 2}
			events := []sink.Event{
				red,
				mk(sink.TypeViolationWrongWay, "cam-2"),
				mk(sink.TypeAlertFire, "cam-1"),
				mk(sink.TypeTrafficCount, "cam-3"),
				mk(sink.TypeCameraOffline, "cam-2"),
				summary,
				mk("experiment.test", "cam-9"),
			}
			wantTopic := map[string]string{ // event id → topic
				events[0].ID: run + ".matthan.violations",
				events[1].ID: run + ".matthan.violations",
				events[2].ID: run + ".matthan.alerts",
				events[3].ID: run + ".matthan.traffic",
				events[4].ID: run + ".matthan.health",
				events[5].ID: run + ".matthan.detections",
				events[6].ID: run + ".other",
			}
			start := time.Now()
			if err := w.Write(t.Context(), events); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %d events to 6 new topics in %v", len(events), time.Since(start).Round(time.Millisecond))

			byID := map[string]sink.Event{}
			for _, e := range events {
				byID[e.ID] = e
			}
			seen := map[string]int{}
			for _, topic := range []string{".matthan.violations", ".matthan.alerts", ".matthan.traffic", ".matthan.health", ".matthan.detections", ".other"} {
				for _, m := range consume(t, bs[0], run+topic) {
					var got sink.Event
					if err := json.Unmarshal([]byte(m.Payload), &got); err != nil {
						t.Fatalf("payload %q: %v", m.Payload, err)
					}
					want, ok := byID[got.ID]
					if !ok {
						t.Errorf("unexpected message %s on %s", m.Payload, m.Topic)
						continue
					}
					seen[got.ID]++
					if m.Topic != wantTopic[got.ID] {
						t.Errorf("%s on topic %s, want %s", want.Type, m.Topic, wantTopic[got.ID])
					}
					if m.Key != want.CameraID {
						t.Errorf("%s key %q, want %q", want.Type, m.Key, want.CameraID)
					}
					if h := fmt.Sprint(m.Headers); h != fmt.Sprint([]string{HeaderType, want.Type, HeaderSchema, sink.SchemaVersion}) {
						t.Errorf("%s headers %s", want.Type, h)
					}
					wantJSON, _ := json.Marshal(want)
					if m.Payload != string(wantJSON) {
						t.Errorf("payload\n got %s\nwant %s", m.Payload, wantJSON)
					}
				}
			}
			for _, e := range events {
				if seen[e.ID] != 1 {
					t.Errorf("%s (%s) read %d times, want once", e.Type, e.CameraID, seen[e.ID])
				}
			}
		})
	}
}

func TestWriterKeepsCameraOrder(t *testing.T) {
	bs := brokers(t)
	run := "t" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	w := &Writer{Brokers: bs, Topics: map[string]string{"detection.": run + ".detections"}}
	defer w.Close()
	const n = 1000
	var ids []string
	start := time.Now()
	for b := range 4 {
		batch := make([]sink.Event, n/4)
		for i := range batch {
			batch[i] = sink.NewEvent(sink.TypeDetectionSummary, "cam-1", time.Now())
			batch[i].Counts = map[string]int{"car": b*n/4 + i}
			ids = append(ids, batch[i].ID)
		}
		if err := w.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d events in 4 batches in %v", n, time.Since(start).Round(time.Millisecond))
	msgs := consume(t, bs[0], run+".detections")
	if len(msgs) != n {
		t.Fatalf("read %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		var e sink.Event
		if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
			t.Fatal(err)
		}
		if e.ID != ids[i] {
			t.Fatalf("message %d is %s, want %s: order lost", i, e.ID, ids[i])
		}
	}
}

// silentBroker accepts connections and never answers, like a hung broker.
func silentBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestWriterErrors(t *testing.T) {
	silent := silentBroker(t)
	tests := []struct {
		name    string
		w       *Writer
		within  time.Duration
		wantErr error
		wantMsg string
	}{
		{"unreachable broker", &Writer{Brokers: []string{"127.0.0.1:1"}, WriteTimeout: 3 * time.Second}, 8 * time.Second, nil, "127.0.0.1:1"},
		{"silent broker", &Writer{Brokers: []string{silent}, WriteTimeout: 2 * time.Second}, 4 * time.Second, nil, silent},
		{"no brokers", &Writer{}, time.Second, ErrNoBrokers, "no Kafka brokers"},
		{"bad compression", &Writer{Brokers: []string{"127.0.0.1:1"}, Compression: "brotli"}, time.Second, ErrBadCompression, `"brotli": want lz4, snappy or none`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.w.Close()
			start := time.Now()
			err := tt.w.Write(t.Context(), []sink.Event{sink.NewEvent(sink.TypeAlertSmoke, "cam-1", time.Now())})
			took := time.Since(start)
			t.Logf("error after %v: %v", took.Round(time.Millisecond), err)
			if err == nil {
				t.Fatal("Write() = nil, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Write() = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Write() = %q, want it to say %q", err, tt.wantMsg)
			}
			if took > tt.within {
				t.Errorf("Write() took %v, want at most %v", took, tt.within)
			}
		})
	}

	t.Run("closed", func(t *testing.T) {
		w := &Writer{Brokers: []string{"127.0.0.1:1"}}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(t.Context(), nil); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after Close = %v, want ErrClosed", err)
		}
	})
}
