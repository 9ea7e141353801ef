// Package clickhouse stores events in the analytics store: a ClickHouse
// server (clickhouse-go/v2, native protocol) or embedded chDB.
//
// Store owns the schema and the SQL; it runs the same SQL on either Backend.
// Embedded loads libchdb.so lazily through purego, so the binary starts
// without the library and reports where it looked when it is missing. chDB
// allows one connection per process: open one Embedded and share it.
package clickhouse
