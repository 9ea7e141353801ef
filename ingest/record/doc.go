// Package record writes a camera's access units to disk as evidence: a
// continuous series of fragmented MP4 segments and an index of them.
//
// # Layout
//
// A Recorder for camera C under root R writes
//
//	R/C/YYYY-MM-DD/HH-MM-SS.mp4   one segment (UTC, from its first capture time)
//	R/C/index.jsonl               one JSON line per closed segment (see Segment)
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
// or could not be derived), or when the recorder stops.
package record
