// Package sink carries analysis events out of the engine.
//
// Event is the one JSON event every consumer sees; its versioned JSON Schema
// is embedded (JSONSchema). Hub is the live, in-memory fan-out to SSE clients
// and keeps the most recent events; Fanout hands every event to the durable
// writers (Kafka, ClickHouse) through a queue per writer, batching and
// retrying so that a slow or failing writer never blocks the analysis stages.
// With a spool folder each queue is a disk spool (package spool), so that an
// outage of a writer or a restart of the engine loses no accepted event;
// events are encoded once, when spooled, and a RawWriter takes them as
// Encoded JSON from the spool.
//
// Sub-packages: kafka writes events to Kafka topics by audience, clickhouse
// stores them in the analytics store (a ClickHouse server or embedded chDB).
package sink
