// Package ingest pulls camera streams over RTSP and hands their access units
// to the recorder and to the analysis pipeline without ever waiting for them.
//
// A Source owns one camera connection: it connects, reconnects with backoff,
// reports the camera's state and calls its consumers with every AccessUnit.
// Sub-packages: record writes the evidence recordings, decode turns access
// units into frames, camsim is the camera simulator used by the demo and tests.
package ingest
