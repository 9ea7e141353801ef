package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/matthan/matthan/sink"
)

// DefaultTopics returns the default map of event type prefixes to topics,
// by audience.
func DefaultTopics() map[string]string {
	return map[string]string{
		"violation.": "matthan.violations",
		"alert.":     "matthan.alerts",
		"traffic.":   "matthan.traffic",
		"camera.":    "matthan.health",
		"recording.": "matthan.health",
		"detection.": "matthan.detections",
	}
}

// Writer defaults.
const (
	// DefaultFallbackTopic receives events whose type matches no prefix.
	DefaultFallbackTopic = "matthan.events"
	// DefaultClientID is the client id the brokers see.
	DefaultClientID = "matthan"
	// DefaultCompression compresses message batches (lz4: cheap on CPU).
	DefaultCompression = "lz4"
	// DefaultWriteTimeout bounds one Write, retries included, so that a
	// broker outage surfaces as an error the caller can retry later.
	DefaultWriteTimeout = 10 * time.Second
)

// Header keys set on every message.
const (
	HeaderType   = "type"
	HeaderSchema = "schema"
)

// Writer writes events to Kafka: topic chosen by the event type's prefix,
// key = camera id, value = the event's JSON, headers type and schema. It
// waits for all in-sync replicas (acks=all) and lets the broker create
// missing topics. Configure it before the first Write; Write is meant to be
// called from one goroutine (sink.Fanout does), Close from any.
type Writer struct {
	// Brokers are the bootstrap brokers, host:port; required.
	Brokers []string
	// Topics maps event type prefixes to topics; the longest matching prefix
	// wins. Defaults to DefaultTopics.
	Topics map[string]string
	// FallbackTopic receives events whose type matches no prefix. Defaults
	// to DefaultFallbackTopic.
	FallbackTopic string
	// ClientID is the client id the brokers see. Defaults to DefaultClientID.
	ClientID string
	// Compression is lz4, snappy or none. Defaults to DefaultCompression.
	Compression string
	// WriteTimeout bounds one Write. Defaults to DefaultWriteTimeout.
	WriteTimeout time.Duration
	// TLS, when set, connects to the brokers over TLS.
	TLS *tls.Config
	// SASL, when set, authenticates to the brokers (PLAIN or SCRAM).
	SASL sasl.Mechanism
	// Logger receives the Kafka client's error log. Defaults to discarding.
	Logger *slog.Logger

	mu        sync.Mutex
	w         *kafkago.Writer
	transport *kafkago.Transport
	prefixes  []string // of Topics, longest first
	closed    bool
}

var _ sink.RawWriter = (*Writer)(nil)

// start builds the kafka-go writer on first use. Callers hold w.mu.
func (w *Writer) start() error {
	if w.closed {
		return ErrClosed
	}
	if w.w != nil {
		return nil
	}
	if len(w.Brokers) == 0 {
		return ErrNoBrokers
	}
	var codec kafkago.Compression
	switch w.Compression {
	case "", "lz4":
		codec = kafkago.Lz4
	case "snappy":
		codec = kafkago.Snappy
	case "none":
	default:
		return fmt.Errorf("%w %q: want lz4, snappy or none", ErrBadCompression, w.Compression)
	}
	if w.Topics == nil {
		w.Topics = DefaultTopics()
	}
	if w.FallbackTopic == "" {
		w.FallbackTopic = DefaultFallbackTopic
	}
	if w.ClientID == "" {
		w.ClientID = DefaultClientID
	}
	if w.WriteTimeout <= 0 {
		w.WriteTimeout = DefaultWriteTimeout
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "sink", "sink", "kafka")

	w.prefixes = w.prefixes[:0]
	for p := range w.Topics {
		w.prefixes = append(w.prefixes, p)
	}
	slices.SortFunc(w.prefixes, func(a, b string) int { return len(b) - len(a) })

	w.transport = &kafkago.Transport{
		ClientID:    w.ClientID,
		DialTimeout: min(5*time.Second, w.WriteTimeout),
		TLS:         w.TLS,
		SASL:        w.SASL,
	}
	w.w = &kafkago.Writer{
		Addr:                   kafkago.TCP(w.Brokers...),
		Balancer:               kafkago.Murmur2Balancer{}, // the Java client's key hashing
		RequiredAcks:           kafkago.RequireAll,
		Compression:            codec,
		BatchSize:              sink.DefaultBatchSize,
		BatchTimeout:           5 * time.Millisecond, // batches come whole from sink.Fanout: don't linger
		AllowAutoTopicCreation: true,
		// One attempt per call: sink.Fanout retries (and spools) whole
		// batches, and kafka-go's own retries would make Close wait for them
		// during an outage.
		MaxAttempts: 1,
		Transport:   w.transport,
		ErrorLogger: kafkago.LoggerFunc(func(msg string, args ...any) {
			log.Warn(fmt.Sprintf(msg, args...))
		}),
	}
	return nil
}

// topic returns the topic of an event type.
func (w *Writer) topic(typ string) string {
	for _, p := range w.prefixes {
		if strings.HasPrefix(typ, p) {
			return w.Topics[p]
		}
	}
	return w.FallbackTopic
}

// Name is the sink name in logs and metrics.
func (w *Writer) Name() string { return "kafka" }

// Write publishes events and returns once the brokers acknowledged all of
// them, or an error. After an error some events may have been written:
// retrying the batch may duplicate them (consumers dedupe on id).
func (w *Writer) Write(ctx context.Context, events []sink.Event) error {
	encoded := make([]sink.Encoded, len(events))
	for i, e := range events {
		var err error
		if encoded[i], err = sink.Encode(e); err != nil {
			return fmt.Errorf("kafka write: %w", err)
		}
	}
	return w.WriteRaw(ctx, encoded)
}

// WriteRaw is Write for events already encoded: the message values are
// their JSON as it is.
func (w *Writer) WriteRaw(ctx context.Context, events []sink.Encoded) error {
	w.mu.Lock()
	err := w.start()
	kw := w.w
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("kafka write: %w", err)
	}
	if len(events) == 0 {
		return nil
	}
	msgs := make([]kafkago.Message, len(events))
	headers := make([]kafkago.Header, 2*len(events)) // one allocation for the batch
	for i, e := range events {
		msgs[i] = kafkago.Message{
			Topic: w.topic(e.Type),
			Key:   []byte(e.CameraID),
			Value: e.JSON,
			Headers: append(headers[2*i:2*i:2*i+2],
				kafkago.Header{Key: HeaderType, Value: []byte(e.Type)},
				kafkago.Header{Key: HeaderSchema, Value: []byte(e.Schema)}),
		}
	}
	ctx, cancel := context.WithTimeout(ctx, w.WriteTimeout)
	defer cancel()
	wait := topicRetryMin
	for {
		err := kw.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		if !topicPending(err) || ctx.Err() != nil {
			return fmt.Errorf("kafka write %d events to %s: %w", len(events), strings.Join(w.Brokers, ","), err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("kafka write %d events to %s: %w", len(events), strings.Join(w.Brokers, ","), err)
		case <-t.C:
		}
		wait = min(2*wait, topicRetryMax)
	}
}

// A topic the broker is still creating makes the partition lookup fail
// before anything is sent; Write then retries the whole batch within
// WriteTimeout, waiting from topicRetryMin doubling to topicRetryMax.
const (
	topicRetryMin = 20 * time.Millisecond
	topicRetryMax = 500 * time.Millisecond
)

// topicPending reports whether err says a topic does not exist yet or has
// no leader yet: the broker's automatic creation is asynchronous.
func topicPending(err error) bool {
	return errors.Is(err, kafkago.UnknownTopicOrPartition) || errors.Is(err, kafkago.LeaderNotAvailable)
}

// Close flushes nothing (Write is synchronous), ends the client's
// connections and makes later Writes fail with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.w == nil {
		return nil
	}
	err := w.w.Close()
	w.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("close kafka writer: %w", err)
	}
	return nil
}
