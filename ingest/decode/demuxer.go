package decode

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/matthan/matthan/ingest"
)

// Packet is one coded picture of a file's video stream.
type Packet struct {
	// NALUs are the NAL units of the picture without start codes or length
	// prefixes. Parameter sets sent in-band are kept. The slices belong to
	// the caller.
	NALUs [][]byte
	// PTS and DTS are the presentation and decoding times since the start of
	// the stream. DTS can be negative for streams with B-frames.
	PTS, DTS time.Duration
	// Keyframe is set on pictures decoding can start at (IDR/IRAP).
	Keyframe bool
}

// Demuxer reads the H.264 or H.265 packets of a media file with libavformat.
// It reads the file's first video stream and ignores the others. A Demuxer
// is not safe for concurrent use; Close releases its C memory.
type Demuxer struct {
	path       string
	in         *input
	info       streamInfo
	params     *ingest.StreamParams
	lengthSize int // NAL length size of the packets, 0 for Annex-B
}

// OpenFile opens the media file at path for streaming its video. A video
// codec other than H.264 or H.265 gives an error wrapping
// ErrUnsupportedCodec; a file without video, one wrapping ErrNoVideo.
func OpenFile(path string) (*Demuxer, error) {
	in, err := openInput(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	info := in.info()
	if info.codec == "" {
		in.close()
		return nil, fmt.Errorf("%w %q in %s: only H.264 and H.265 can be streamed", ErrUnsupportedCodec, info.codecName, path)
	}
	cfg, err := parseExtradata(info.codec, info.extradata)
	if err != nil {
		in.close()
		return nil, fmt.Errorf("open %s: codec configuration: %w", path, err)
	}
	return &Demuxer{path: path, in: in, info: info, params: cfg.params, lengthSize: cfg.lengthSize}, nil
}

// Codec returns the video codec: ingest.H264 or ingest.H265.
func (d *Demuxer) Codec() ingest.Codec { return d.info.codec }

// Params returns the parameter sets of the container's codec configuration
// (avcC/hvcC), without start codes. Fields the file does not carry are nil.
// Treat the result as read-only.
func (d *Demuxer) Params() *ingest.StreamParams { return d.params }

// Width returns the picture width in pixels.
func (d *Demuxer) Width() int { return d.info.width }

// Height returns the picture height in pixels.
func (d *Demuxer) Height() int { return d.info.height }

// FrameRate returns the average frame rate the container declares, 0 when
// unknown.
func (d *Demuxer) FrameRate() float64 { return d.info.frameRate }

// Duration returns the duration of the video stream, 0 when unknown.
func (d *Demuxer) Duration() time.Duration { return d.info.duration }

// Read returns the next video packet, in decoding order, and io.EOF after
// the last.
func (d *Demuxer) Read() (Packet, error) {
	if d.in == nil {
		return Packet{}, fmt.Errorf("read %s: %w", d.path, ErrClosed)
	}
	raw, err := d.in.read()
	if errors.Is(err, io.EOF) {
		return Packet{}, io.EOF
	}
	if err != nil {
		return Packet{}, fmt.Errorf("read %s: %w", d.path, err)
	}
	buf := append([]byte(nil), raw.data...)
	var nalus [][]byte
	if d.lengthSize > 0 {
		nalus, err = splitLengthPrefixed(buf, d.lengthSize, nil)
		if err != nil && isAnnexB(buf) { // some muxers store Annex-B anyway
			nalus, err = splitAnnexB(buf, nil)
		}
	} else {
		nalus, err = splitAnnexB(buf, nil)
	}
	if err != nil {
		return Packet{}, fmt.Errorf("read %s: packet at dts %d: %w", d.path, raw.dts, err)
	}
	pts, dts := raw.pts, raw.dts
	if pts == noPTS {
		pts = dts
	}
	if dts == noPTS {
		dts = pts
	}
	p := Packet{NALUs: nalus, Keyframe: raw.key}
	if pts != noPTS {
		p.PTS = d.info.toDuration(pts - d.info.start)
		p.DTS = d.info.toDuration(dts - d.info.start)
	}
	return p, nil
}

// Rewind goes back to the first packet, for looping a file.
func (d *Demuxer) Rewind() error {
	if d.in == nil {
		return fmt.Errorf("rewind %s: %w", d.path, ErrClosed)
	}
	if d.in.seekStart() == nil {
		return nil
	}
	// Not seekable: open it again.
	in, err := openInput(d.path)
	if err != nil {
		return fmt.Errorf("rewind %s: %w", d.path, err)
	}
	d.in.close()
	d.in = in
	return nil
}

// Close releases the file and the demuxer's C memory. It is safe to call
// more than once.
func (d *Demuxer) Close() error {
	if d.in != nil {
		d.in.close()
		d.in = nil
	}
	return nil
}
