// Command sinkbench measures the event sinks against their raw limits, in
// one run:
//
//   - Kafka: events/s through sink/kafka.Writer behind a sink.Fanout with a
//     disk spool, as the engine runs it (validate, encode, spool, fsync,
//     read back, produce, acknowledge), against a bare kafka-go Writer with the
//     same settings fed the same events in the same batches (encoding each
//     to the same message is part of its work too);
//   - chDB: rows/s into embedded chDB through clickhouse.Store.Write (dedupe
//     look-up, rows derived from the events, one INSERT per table), against
//     bare INSERT ... FORMAT JSONEachRow statements of exactly the rows the
//     Store inserted, built beforehand.
//
// Each side runs -reps times, alternating which goes first; it prints the
// medians and their ratios (targets: 0.8 or more).
//
//	go run ./benchmarks/sinkbench -brokers 127.0.0.1:9092
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
	"github.com/matthan/matthan/sink/kafka"
)

func main() {
	brokers := flag.String("brokers", os.Getenv("MATTHAN_KAFKA_BROKERS"), "Kafka `brokers`, host:port[,...] (default $MATTHAN_KAFKA_BROKERS)")
	chdb := flag.String("chdb", "", "libchdb.so `path` (default $"+clickhouse.EnvLibrary+" or .deps/lib/libchdb.so)")
	events := flag.Int("events", 20000, "events per repetition")
	reps := flag.Int("reps", 5, "repetitions of each side")
	flag.Parse()
	if err := run(context.Background(), *brokers, *chdb, *events, *reps); err != nil {
		fmt.Fprintln(os.Stderr, "sinkbench:", err)
		os.Exit(1)
	}
}

// Report is the medians of one run.
type Report struct {
	KafkaSink, KafkaBare float64 // events/s
	StoreRows, BareRows  float64 // rows/s
	Rows                 int     // rows per repetition into chDB
}

func run(ctx context.Context, brokers, chdb string, n, reps int) error {
	if brokers == "" {
		return errors.New("no brokers: set -brokers or MATTHAN_KAFKA_BROKERS")
	}
	if chdb == "" {
		chdb = os.Getenv(clickhouse.EnvLibrary)
	}
	if chdb == "" {
		chdb = filepath.Join(".deps", "lib", "libchdb.so")
	}
	r, err := measure(ctx, strings.Split(brokers, ","), chdb, n, reps, os.Stdout)
	if err != nil {
		return err
	}
	fmt.Printf("\nkafka: sink %.0f events/s, bare kafka-go %.0f events/s: ratio %.2f (target >= 0.8)\n",
		r.KafkaSink, r.KafkaBare, r.KafkaSink/r.KafkaBare)
	fmt.Printf("chDB:  store %.0f rows/s, bare insert %.0f rows/s (%d rows of %d events): ratio %.2f (target >= 0.8)\n",
		r.StoreRows, r.BareRows, r.Rows, n, r.StoreRows/r.BareRows)
	return nil
}

// measure runs both benchmarks and logs each repetition to log.
func measure(ctx context.Context, brokers []string, chdb string, n, reps int, log *os.File) (Report, error) {
	var rep Report
	topic := fmt.Sprintf("sinkbench-%d", time.Now().UnixNano())
	var sinkRates, bareRates []float64
	for i := range reps + 1 { // the first round creates the topic and warms up: not counted
		events := stream(n)
		first, second := kafkaSink, kafkaBare
		if i%2 == 1 {
			first, second = kafkaBare, kafkaSink
		}
		for _, f := range []func(context.Context, []string, string, []sink.Event) (float64, string, error){first, second} {
			rate, name, err := f(ctx, brokers, topic, events)
			if err != nil {
				return rep, err
			}
			if i == 0 {
				continue
			}
			fmt.Fprintf(log, "kafka %-5s rep %d: %8.0f events/s\n", name, i, rate)
			if name == "sink" {
				sinkRates = append(sinkRates, rate)
			} else {
				bareRates = append(bareRates, rate)
			}
		}
	}
	rep.KafkaSink, rep.KafkaBare = median(sinkRates), median(bareRates)

	dir, err := os.MkdirTemp("", "sinkbench-chdb-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	db, err := clickhouse.OpenEmbedded(dir, chdb)
	if err != nil {
		return rep, err
	}
	defer db.Close()
	rec := &recorder{Backend: db}
	store := &clickhouse.Store{Backend: rec}
	if err := store.Migrate(ctx); err != nil {
		return rep, err
	}
	// A first pass warms up and records what the Store inserts: the bare
	// passes replay those statements. The stream is the same each time but
	// for its ids and times, so every pass inserts the same number of rows.
	if _, _, err := storePass(ctx, db, rec, store, stream(n), true); err != nil {
		return rep, err
	}
	inserts := rec.inserts
	for _, in := range inserts {
		rep.Rows += in.rows
	}
	var storeRates, bareInsertRates []float64
	for i := range reps {
		events := stream(n)
		var storeRate, bareRate float64
		var rows int
		var err error
		for j := range 2 {
			if (i+j)%2 == 0 {
				storeRate, rows, err = storePass(ctx, db, rec, store, events, false)
			} else {
				bareRate, err = barePass(ctx, db, inserts, rep.Rows)
			}
			if err != nil {
				return rep, err
			}
		}
		if rows != rep.Rows {
			return rep, fmt.Errorf("store pass %d inserted %d rows, the first %d", i+1, rows, rep.Rows)
		}
		fmt.Fprintf(log, "chDB  store rep %d: %8.0f rows/s (dedupe look-ups %v); bare %8.0f rows/s\n",
			i+1, storeRate, rec.lookups.Round(time.Millisecond), bareRate)
		storeRates, bareInsertRates = append(storeRates, storeRate), append(bareInsertRates, bareRate)
	}
	rep.StoreRows, rep.BareRows = median(storeRates), median(bareInsertRates)
	return rep, nil
}

// stream returns n events as the engine makes them: mostly traffic.count
// (one per line per minute) of 16 cameras with two lines each, with a
// detection.summary and a health event now and then.
func stream(n int) []sink.Event {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	start := time.Now().Add(-24 * time.Hour).Truncate(time.Minute)
	classes := []string{"car", "motorcycle", "truck", "bus", "person"}
	events := make([]sink.Event, 0, n)
	for i := 0; len(events) < n; i++ {
		camera := fmt.Sprintf("cam-%02d", i%16)
		ts := start.Add(time.Duration(i/32) * time.Minute)
		var e sink.Event
		switch {
		case i%50 == 49:
			e = sink.NewEvent(sink.TypeCameraOnline, camera, ts)
			e.Detail = "stream back"
		case i%10 == 9:
			e = sink.NewEvent(sink.TypeDetectionSummary, camera, ts)
			e.Counts = map[string]int{"car": r.IntN(20), "motorcycle": r.IntN(30)}
			e.Model = &sink.ModelRef{Name: "yolox_nano", Version: "0.1.1"}
		default:
			e = sink.NewEvent(sink.TypeTrafficCount, camera, ts)
			e.Line = fmt.Sprintf("line-%d", i/16%2)
			e.Counts = map[string]int{}
			e.Measures = map[string]float64{"in": 0, "out": 0, "interval_s": 60, "observed_s": 59.5}
			for _, dir := range []string{"in", "out"} {
				for _, c := range classes {
					if k := r.IntN(6); k > 0 {
						e.Counts[c] += k
						e.Measures[dir] += float64(k)
						e.Measures[dir+"."+c] = float64(k)
					}
				}
			}
		}
		e.Node = "bench"
		events = append(events, e)
	}
	return events
}

// counted passes batches to a sink.RawWriter and closes done once total
// events were written.
type counted struct {
	sink.RawWriter
	total   int64
	written atomic.Int64
	done    chan struct{}
	once    sync.Once
}

func (c *counted) Write(ctx context.Context, events []sink.Event) error {
	if err := c.RawWriter.Write(ctx, events); err != nil {
		return err
	}
	c.count(len(events))
	return nil
}

func (c *counted) WriteRaw(ctx context.Context, events []sink.Encoded) error {
	if err := c.RawWriter.WriteRaw(ctx, events); err != nil {
		return err
	}
	c.count(len(events))
	return nil
}

func (c *counted) count(n int) {
	if c.written.Add(int64(n)) >= c.total {
		c.once.Do(func() { close(c.done) })
	}
}

// kafkaSink publishes events into a sink.Fanout with a spool in front of a
// kafka.Writer, and returns events/s from the first Publish until the
// writer has written the last.
func kafkaSink(ctx context.Context, brokers []string, topic string, events []sink.Event) (float64, string, error) {
	dir, err := os.MkdirTemp("", "sinkbench-spool-")
	if err != nil {
		return 0, "sink", err
	}
	defer os.RemoveAll(dir)
	w := &kafka.Writer{Brokers: brokers, Topics: topics(topic)}
	defer w.Close()
	c := &counted{RawWriter: w, total: int64(len(events)), done: make(chan struct{})}
	f := &sink.Fanout{Sinks: []sink.Writer{c}, SpoolDir: dir}
	if err := f.Open(); err != nil {
		return 0, "sink", err
	}
	rctx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- f.Run(rctx) }()

	start := time.Now()
	for _, e := range events {
		if err := f.Publish(e); err != nil {
			cancel()
			<-ran
			return 0, "sink", err
		}
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Minute):
		cancel()
		<-ran
		return 0, "sink", fmt.Errorf("kafka sink: %d of %d events written after 5 min", c.written.Load(), len(events))
	}
	took := time.Since(start)
	cancel()
	if err := <-ran; err != nil {
		return 0, "sink", err
	}
	return float64(len(events)) / took.Seconds(), "sink", nil
}

// topics sends every event type to topic.
func topics(topic string) map[string]string {
	m := kafka.DefaultTopics()
	for p := range m {
		m[p] = topic
	}
	return m
}

// kafkaBare writes the events with a kafka-go Writer configured as
// kafka.Writer configures its own: it encodes each batch of
// sink.DefaultBatchSize events (as sink.Fanout hands them) to messages with
// the same topic, key, value and headers, and writes it; it returns
// events/s.
func kafkaBare(ctx context.Context, brokers []string, topic string, events []sink.Event) (float64, string, error) {
	transport := &kafkago.Transport{ClientID: kafka.DefaultClientID, DialTimeout: 5 * time.Second}
	defer transport.CloseIdleConnections()
	w := &kafkago.Writer{
		Addr:                   kafkago.TCP(brokers...),
		Balancer:               kafkago.Murmur2Balancer{},
		RequiredAcks:           kafkago.RequireAll,
		Compression:            kafkago.Lz4,
		BatchSize:              sink.DefaultBatchSize,
		BatchTimeout:           5 * time.Millisecond,
		AllowAutoTopicCreation: true,
		MaxAttempts:            1,
		Transport:              transport,
	}
	defer w.Close()
	start := time.Now()
	for batch := range slices.Chunk(events, sink.DefaultBatchSize) {
		msgs := make([]kafkago.Message, len(batch))
		for i, e := range batch {
			value, err := json.Marshal(e)
			if err != nil {
				return 0, "bare", err
			}
			msgs[i] = kafkago.Message{
				Topic: topic, Key: []byte(e.CameraID), Value: value,
				Headers: []kafkago.Header{{Key: kafka.HeaderType, Value: []byte(e.Type)}, {Key: kafka.HeaderSchema, Value: []byte(e.Schema)}},
			}
		}
		wctx, cancel := context.WithTimeout(ctx, kafka.DefaultWriteTimeout)
		err := w.WriteMessages(wctx, msgs...)
		cancel()
		if err != nil {
			return 0, "bare", fmt.Errorf("bare kafka-go: %w", err)
		}
	}
	return float64(len(events)) / time.Since(start).Seconds(), "bare", nil
}

// recorder is a Backend that keeps the INSERTs passed to it while on.
type recorder struct {
	clickhouse.Backend
	on      bool
	inserts []insert
	rows    int           // inserted, on or off
	lookups time.Duration // in QueryJSON (the Store's dedupe look-ups)
}

func (r *recorder) QueryJSON(ctx context.Context, sql string) ([]byte, error) {
	start := time.Now()
	defer func() { r.lookups += time.Since(start) }()
	return r.Backend.QueryJSON(ctx, sql)
}

// insert is one INSERT statement and the rows it holds.
type insert struct {
	sql  string
	rows int
}

func (r *recorder) InsertJSON(ctx context.Context, table string, rows [][]byte) error {
	r.rows += len(rows)
	if r.on && len(rows) > 0 {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " FORMAT JSONEachRow\n")
		for _, row := range rows {
			b.Write(row)
			b.WriteByte('\n')
		}
		r.inserts = append(r.inserts, insert{b.String(), len(rows)})
	}
	return r.Backend.InsertJSON(ctx, table, rows)
}

// truncate empties the tables Store writes; the rollups go with their
// source through their own truncation.
func truncate(ctx context.Context, db clickhouse.Backend) error {
	for _, t := range []string{"events", "traffic_counts", "traffic_counts_hourly", "traffic_counts_daily", "camera_health", "recording_gaps"} {
		if err := db.Exec(ctx, "TRUNCATE TABLE "+t); err != nil {
			return err
		}
	}
	return nil
}

// storePass writes events through the Store into empty tables, in batches
// of sink.DefaultBatchSize, and returns rows/s and the rows inserted; with
// record, rec keeps the INSERTs (which slows the pass).
func storePass(ctx context.Context, db clickhouse.Backend, rec *recorder, store *clickhouse.Store, events []sink.Event, record bool) (float64, int, error) {
	if err := truncate(ctx, db); err != nil {
		return 0, 0, err
	}
	rec.on, rec.inserts, rec.rows, rec.lookups = record, nil, 0, 0
	defer func() { rec.on = false }()
	// A new Store, as at an engine's start: the old one's memory of what
	// the tables hold went with the truncation.
	store = &clickhouse.Store{Backend: store.Backend}
	start := time.Now()
	for batch := range slices.Chunk(events, sink.DefaultBatchSize) {
		if err := store.Write(ctx, batch); err != nil {
			return 0, 0, err
		}
	}
	took := time.Since(start)
	return float64(rec.rows) / took.Seconds(), rec.rows, nil
}

// barePass runs the recorded INSERTs on empty tables and returns rows/s.
func barePass(ctx context.Context, db clickhouse.Backend, inserts []insert, rows int) (float64, error) {
	if err := truncate(ctx, db); err != nil {
		return 0, err
	}
	start := time.Now()
	for _, in := range inserts {
		if err := db.Exec(ctx, in.sql); err != nil {
			return 0, fmt.Errorf("bare insert: %w", err)
		}
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
