package decode

import (
	"errors"

	"github.com/matthan/matthan/ingest"
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrUnsupportedCodec is returned by OpenFile and NewDecoder for a video
	// codec other than H.264 or H.265. It is ingest.ErrUnsupportedCodec, so
	// files and cameras are refused alike.
	ErrUnsupportedCodec = ingest.ErrUnsupportedCodec
	// ErrNoVideo is returned when a file has no video stream. It is
	// ingest.ErrNoVideo.
	ErrNoVideo = ingest.ErrNoVideo
	// ErrDecode wraps every error libavcodec reports while decoding. The
	// Decoder stays usable after it; decoding resumes at the next keyframe.
	ErrDecode = errors.New("decode error")
	// ErrNoPicture is returned by Decoder.Convert when no decoded picture is
	// ready.
	ErrNoPicture = errors.New("no picture ready")
	// ErrBitstream is returned for NAL unit framing that cannot be parsed
	// (bad Annex-B or length-prefixed data, bad avcC/hvcC records).
	ErrBitstream = errors.New("malformed bitstream")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("closed")
)
