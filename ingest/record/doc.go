// Package record writes a camera's access units to disk as evidence: a
// continuous series of fragmented MP4 segments, an index of them, and a
// ledger of every interval that was not recorded. Retention
// deletes old recordings within the regulation's limits and
// honours legal holds.
//
// # Layout
//
// A Recorder for camera C under root R writes
//
//	R/C/YYYY-MM-DD/HH-MM-SS.mp4   one segment (UTC, from its first capture time; _N suffix on a clash)
//	R/C/index.jsonl               one JSON line per closed segment (see Segment)
//	R/C/gaps.jsonl                one JSON line per gap in the recording (see Gap)
//	R/C/open.json                 the segment being written and its exact start, for crash recovery
//	R/C/index.lock                flock(2) taken by whoever changes index.jsonl
//	R/C/retention.jsonl           one JSON line per segment retention deleted, written before it goes
//	R/holds.jsonl                 legal holds and their releases, append-only
//
// The .jsonl files are appended to and synced line by line; a line cut
// short by a crash is ignored by readers and cut off by the next append.
// Only retention rewrites index.jsonl, atomically (temporary file, rename).
//
// Each segment is an fMP4 file: an init section (ftyp+moov with the codec
// configuration) followed by moof+mdat parts. A part is written and synced
// to disk about every PartDuration, so a crash loses at most the part being
// written; the file up to the last complete part stays readable.
//
// # Timing
//
// Decode timestamps are derived from the stream (the SPS and the slice
// headers) because RTP only carries presentation timestamps; with B-frames
// the decode order differs from the presentation order. Inside a segment
// the decode timeline starts at 0 and is continuous; composition offsets
// are the stream's PTS-DTS. The first sample of a segment is a keyframe,
// presented at file time D (its PTS-DTS: 0 without B-frames), which is
// capture time Segment.Start; so file presentation time t is capture time
// Start + t - D. This is how ffmpeg and mediamtx write fragmented MP4.
//
// A segment ends at the first keyframe after SegmentDuration, when the
// stream parameters change, at a gap (the queue was full, timestamps jumped
// or could not be derived, the capture time strayed more than GapThreshold
// from what the timestamps predict, or nothing arrived for 10 s), when
// writing fails, or when the recorder stops.
//
// # Gaps
//
// A gap is the time between the end of one segment and the start of the
// next, when it is longer than 100 ms; its cause is why the first segment
// ended (GapStream, GapQueue, GapDisk) or, for the first segment of a run,
// GapRestart. Recording resumes at a keyframe, so a gap lasts until the
// first keyframe after the camera returns. A gap is written when recording
// resumes; an outage still going on is not in the ledger yet.
//
// # Crash recovery
//
// When Run starts, every segment file the index does not name is finalised:
// cut to its last complete part, hashed and indexed with EndReason
// EndCrash (its start from open.json, else from its name); a file without a
// complete part holds no video and is removed, as is a file retention.jsonl
// says was being deleted. The time from its end to the new recording is
// then a GapRestart. A segment cut short by a failing disk is finalised the
// same way, with EndError, once writing works again.
package record
