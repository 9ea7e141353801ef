package ingest

import "errors"

// Sentinel errors a Source reports; callers branch on them with errors.Is.
// Status.LastError carries their text, never the camera URL.
var (
	// ErrUnsupportedCodec means the camera offers no H.264 or H.265 video.
	ErrUnsupportedCodec = errors.New("unsupported codec")
	// ErrNoVideo means the camera's stream description has no video media.
	ErrNoVideo = errors.New("no video stream")
	// ErrUnauthorized means the camera refused the credentials (RTSP 401 or 403).
	ErrUnauthorized = errors.New("camera refused the credentials")
	// ErrStreamNotFound means the camera has no stream at the URL's path (RTSP 404).
	ErrStreamNotFound = errors.New("stream not found on the camera")
	// ErrNotRTSP means something answers at the camera's address, but not in
	// RTSP (another service, or a broken camera).
	ErrNotRTSP = errors.New("the answer is not RTSP")
	// ErrNoData means the camera sent no RTP for ReadTimeout.
	ErrNoData = errors.New("no data from the camera")
	// ErrInvalidConfig means a Source field is unusable (URL, Transport); Run
	// returns it without connecting.
	ErrInvalidConfig = errors.New("invalid source configuration")
)
