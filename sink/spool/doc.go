// Package spool is an append-only, crash-safe disk queue of records, one
// per sink, so that events the engine accepted survive an outage of the
// sink and a restart of the engine.
//
// A spool is a folder of segment files, each a magic header followed by
// records framed as a little-endian uint32 length, a CRC-32C (Castagnoli)
// of the length and the payload, and the payload. Append writes each record
// with one write(2), so it survives a crash of the process at once; a
// background goroutine fsyncs the segment every SyncInterval, so it
// survives a crash of the machine after at most SyncInterval. The one
// reader takes records in order with Read and confirms them with Ack,
// which writes a cursor (segment, offset) in place, fsynced with the
// records; segments behind the cursor are deleted.
//
// Open resumes from the persisted cursor: records read but not
// acknowledged before a crash are read again (at-least-once). It checks
// every record after the cursor and truncates a torn tail left by a crash
// in the middle of a write. The unacknowledged bytes are bounded by
// MaxBytes: when a record does not fit, Append refuses it with ErrFull,
// counts it, logs and calls OnFull, and never drops what it already holds.
package spool
