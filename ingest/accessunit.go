package ingest

import "time"

// Codec names a video coding format a camera may send.
type Codec string

// The codecs ingest accepts. Anything else is refused with ErrUnsupportedCodec.
const (
	H264 Codec = "H264"
	H265 Codec = "H265"
)

// StreamParams are the parameter sets of a video stream. They are shared by
// every AccessUnit until the camera sends new ones; treat them as read-only.
type StreamParams struct {
	Codec Codec
	VPS   []byte // H.265 only
	SPS   []byte
	PPS   []byte
}

// AccessUnit is one coded picture as received from a camera: the NAL units
// of the picture without start codes, with its timing.
type AccessUnit struct {
	Params   *StreamParams
	NALUs    [][]byte
	PTS      time.Duration // presentation time since the start of the stream, from RTP timestamps
	Capture  time.Time     // wall-clock capture time: RTCP sender reports when present, else arrival time
	Keyframe bool          // an IDR (H.264) or IRAP (H.265) picture: decoding can start here
}
