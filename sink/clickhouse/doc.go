// Package clickhouse stores events in the analytics store: a ClickHouse
// server (clickhouse-go/v2, native protocol) or embedded chDB.
//
// Store owns the schema and the SQL; it runs the same SQL on either Backend.
// Embedded loads libchdb.so lazily through purego, so the binary starts
// without the library and reports where it looked when it is missing. chDB
// allows one connection per process: open one Embedded and share it.
//
// The schema is a list of numbered migrations (schema_migrations records the
// applied ones): events (every event, its JSON in payload); traffic_counts
// (SummingMergeTree, one row per camera, line, direction, class and minute,
// from the Measures "in.<class>" and "out.<class>" of traffic.count events)
// with the rollups traffic_counts_hourly and traffic_counts_daily (dates in
// StatsZone) filled by materialized views; camera_health (camera.* events)
// and recording_gaps (recording.gap events). All keep rows for Retention,
// at least 30 days. Read the summing tables with sum(count) ... GROUP BY:
// rows of one key are merged in the background, not at insert.
package clickhouse
