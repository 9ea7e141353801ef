// Package kafka publishes events to Kafka topics by audience (violations,
// alerts, traffic, health, detections), keyed by camera id so each camera's
// events stay in order on one partition. Writer is a sink.RawWriter built on
// github.com/segmentio/kafka-go: events from a spool go out as the JSON they
// were spooled as, never encoded again.
package kafka
