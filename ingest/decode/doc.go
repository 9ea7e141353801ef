// Package decode is matthan's only door to FFmpeg: it demuxes video files,
// decodes camera access units into pictures and converts them to BGR24.
//
// Three types cover the uses:
//
//   - Demuxer reads the H.264/H.265 packets of a file as NAL units, for the
//     camera simulator and for tests that need real coded video.
//   - Decoder turns ingest.AccessUnits from a live camera into pictures and
//     scales them straight to the size the analysis wants (swscale).
//   - Video decodes any file FFmpeg can read, frame by frame, for offline
//     analysis.
//
// Both give a picture out as a Frame of packed BGR24. ConvertKeep converts
// it straight to the size its first consumer wants (a detector's input,
// area-averaged) and keeps a reference to the decoded picture (no copy), so
// that Frame.Full converts it at full size later, once, only for the frames
// a consumer asks it of (a snapshot, evidence, a full-resolution
// analytic). Keep does the same with the conversion left to Frame.Convert,
// called by the goroutine that uses the frame, if one does: a camera
// pipeline hands frames to its detector that way, so that a frame replaced
// while the detector is behind is never converted. Frame.SourceSize keeps
// the picture's size, in which geometry stays. A Frame gives its picture back on Release (pipelines release it
// when the frame returns to their free list); in steady state nothing is
// allocated in Go memory, and the picture's buffers go back to the
// decoder's pool.
//
// All cgo lives in av.go; no C type leaves that file. C memory is released by
// Close, which every type has and which callers must call (a Frame's only
// after ConvertKeep or Keep). None of the types is safe for concurrent use: each
// belongs to one goroutine at a time.
//
// The package does not log. FFmpeg's own log output is silenced on first use
// (av_log_set_callback is process-wide); the errors libavcodec reports while
// decoding come back as ErrDecode errors and are counted by Decoder.Stats.
//
// A Decoder uses one decoding thread unless told otherwise (DecoderOptions):
// many cameras share few cores, so parallelism comes from decoding several
// cameras at once, not from threads inside one decoder.
package decode
