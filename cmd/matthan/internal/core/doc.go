// Package core is the one place that wires the engine together and knows
// the order things start and stop in:
//
//	start: sinks (store, Kafka, live hub) → analysis → ingest (sources and
//	       recorders) → API
//	stop:  ingest → analysis → sinks flush → API
//
// so nothing is produced after its consumer is gone and the API answers
// until the last event is stored.
package core
