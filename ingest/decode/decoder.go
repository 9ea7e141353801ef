package decode

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/matthan/matthan/ingest"
)

// Mode selects which pictures a Decoder decodes.
type Mode int

// The decoding modes, from the most to the least work.
const (
	// EveryFrame decodes every picture. It is the default.
	EveryFrame Mode = iota
	// SkipNonReference skips the pictures no other picture refers to
	// (usually the B-frames): cheaper, at a lower and uneven frame rate.
	SkipNonReference
	// KeyframesOnly decodes keyframes only: the cheapest mode, for analyses
	// that need a picture every GOP.
	KeyframesOnly
)

// String returns the mode's name, as used in configuration and metrics.
func (m Mode) String() string {
	switch m {
	case EveryFrame:
		return "every-frame"
	case SkipNonReference:
		return "skip-non-reference"
	case KeyframesOnly:
		return "keyframes-only"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// captureRing is how many recent access units a Decoder remembers the
// capture time of. It must exceed the deepest picture reordering (16 for
// H.264 and H.265) so every picture finds the time of its access unit.
const captureRing = 32

// captureEntry is the capture time of the access unit with a PTS.
type captureEntry struct {
	pts     time.Duration
	capture time.Time
}

// DecoderOption configures a Decoder.
type DecoderOption func(*decoderConfig)

type decoderConfig struct{ threads int }

// WithThreads sets the number of libavcodec decoding threads; 0 lets
// libavcodec choose. Defaults to 1: cameras share few cores, so decoding
// several cameras at once is the better use of them. With more than one
// thread, pictures come out a few access units later, and errors logged by
// the worker threads are not reported by Decode.
func WithThreads(n int) DecoderOption { return func(c *decoderConfig) { c.threads = n } }

// DecoderStats counts what a Decoder did since it was created.
type DecoderStats struct {
	AccessUnits uint64 // access units given to Decode
	Pictures    uint64 // pictures made ready by Decode and Flush
	Errors      uint64 // Decode and Flush calls that returned an error
}

// Decoder decodes the access units of one H.264 or H.265 camera stream with
// libavcodec and converts its pictures with swscale. It is not safe for
// concurrent use; Close releases its C memory.
type Decoder struct {
	codec    ingest.Codec
	c        *codec
	mode     Mode
	draining bool // Flush has begun
	eofSent  bool

	ring    [captureRing]captureEntry
	ringPos int

	picPTS     time.Duration
	picCapture time.Time

	stats DecoderStats
}

// NewDecoder returns a decoder for codec, which must be ingest.H264 or
// ingest.H265 (else the error wraps ErrUnsupportedCodec).
func NewDecoder(codec ingest.Codec, opts ...DecoderOption) (*Decoder, error) {
	cfg := decoderConfig{threads: 1}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := newCodec(codec, cfg.threads)
	if err != nil {
		return nil, fmt.Errorf("new decoder: %w", err)
	}
	return &Decoder{codec: codec, c: c}, nil
}

// SetMode selects which pictures are decoded from now on.
func (d *Decoder) SetMode(m Mode) {
	d.mode = m
	if d.c != nil {
		d.c.setSkip(m)
	}
}

// Mode returns the decoding mode.
func (d *Decoder) Mode() Mode { return d.mode }

// Stats returns the decoder's counters.
func (d *Decoder) Stats() DecoderStats { return d.stats }

// Decode feeds one access unit. Before a keyframe that lacks them, the
// parameter sets of au.Params are sent first. It reports whether a decoded
// picture is ready; with B-frames that picture may belong to an earlier
// access unit (see PictureTime). A picture can be ready even when the error
// is not nil (libavcodec concealed a damaged picture).
//
// Errors wrap ErrDecode. The decoder stays usable: garbage is refused, and
// decoding resumes at the next keyframe.
func (d *Decoder) Decode(au ingest.AccessUnit) (bool, error) {
	if d.c == nil {
		return false, fmt.Errorf("decode: %w", ErrClosed)
	}
	if d.draining {
		d.c.reset()
		d.draining, d.eofSent = false, false
	}
	d.stats.AccessUnits++
	d.c.ready = false
	if len(au.NALUs) == 0 {
		return false, d.fail("empty access unit")
	}
	var has [3]bool // VPS, SPS, PPS
	for _, n := range au.NALUs {
		if !validNALHeader(d.codec, n) {
			return false, d.fail("invalid NAL unit header")
		}
		has = d.paramKinds(n, has)
	}
	var ps [3][]byte
	if au.Keyframe && au.Params != nil {
		if d.codec == ingest.H265 && !has[0] {
			ps[0] = au.Params.VPS
		}
		if !has[1] {
			ps[1] = au.Params.SPS
		}
		if !has[2] {
			ps[2] = au.Params.PPS
		}
	}
	d.ring[d.ringPos] = captureEntry{au.PTS, au.Capture}
	d.ringPos = (d.ringPos + 1) % captureRing

	var got bool
	var rerr error
	err := d.c.sendAnnexB(&ps, au.NALUs, int64(au.PTS))
	if errors.Is(err, errAgain) {
		// A picture is waiting: take it, then the decoder has room again.
		// The next picture, if any, comes out on the next call.
		got, rerr = d.c.receive()
		err = d.c.sendAnnexB(&ps, au.NALUs, int64(au.PTS))
	} else {
		got, rerr = d.c.receive()
	}
	return got, d.finish(got, err, rerr)
}

// paramKinds marks in has the parameter-set kind of n.
func (d *Decoder) paramKinds(n []byte, has [3]bool) [3]bool {
	t := nalType(d.codec, n)
	if d.codec == ingest.H265 {
		switch t {
		case h265NALVPS:
			has[0] = true
		case h265NALSPS:
			has[1] = true
		case h265NALPPS:
			has[2] = true
		}
		return has
	}
	switch t {
	case h264NALSPS:
		has[1] = true
	case h264NALPPS:
		has[2] = true
	}
	return has
}

// finish records a new picture and turns what went wrong during a call into
// one error.
func (d *Decoder) finish(got bool, sendErr, recvErr error) error {
	if got {
		d.stats.Pictures++
		d.picPTS = time.Duration(d.c.pictureTS())
		d.picCapture = time.Time{}
		for i := 1; i <= captureRing; i++ { // newest first
			if e := d.ring[(d.ringPos-i+captureRing)%captureRing]; e.pts == d.picPTS {
				d.picCapture = e.capture
				break
			}
		}
	}
	n, msg := d.c.takeErrors()
	var err error
	switch {
	case sendErr != nil && !errors.Is(sendErr, io.EOF):
		err = sendErr
	case recvErr != nil && !errors.Is(recvErr, io.EOF):
		err = recvErr
	}
	if err == nil && n == 0 {
		return nil
	}
	d.stats.Errors++
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s", ErrDecode, msg)
	case n > 0:
		return fmt.Errorf("%w: %v: %s", ErrDecode, err, msg)
	}
	return fmt.Errorf("%w: %v", ErrDecode, err)
}

func (d *Decoder) fail(why string) error {
	d.stats.Errors++
	return fmt.Errorf("%w: %s", ErrDecode, why)
}

// Flush takes out the pictures the decoder still holds for reordering, at
// the end of a stream or before a discontinuity. Call it until it returns
// false; each true makes one more picture ready. After that the decoder
// accepts access units again, starting at a keyframe.
func (d *Decoder) Flush() (bool, error) {
	if d.c == nil {
		return false, fmt.Errorf("flush: %w", ErrClosed)
	}
	d.draining = true
	for range 3 { // libavcodec never refuses both input and output twice in a row

		var sendErr error
		if !d.eofSent {
			// errAgain means a picture is pending: take it first, send the
			// end of stream on a later round.
			if sendErr = d.c.sendEOF(); errors.Is(sendErr, errAgain) {
				sendErr = nil
			} else {
				d.eofSent = true
			}
		}
		got, recvErr := d.c.receive()
		if !got && (errors.Is(recvErr, io.EOF) || recvErr == nil && d.eofSent) {
			d.c.reset()
			d.draining, d.eofSent = false, false
			return false, d.finish(false, sendErr, nil)
		}
		if got || recvErr != nil || sendErr != nil {
			return got, d.finish(got, sendErr, recvErr)
		}
	}
	d.c.reset()
	d.draining, d.eofSent = false, false
	return false, d.fail("decoder stuck while flushing")
}

// PictureTime returns the PTS and capture time of the access unit the ready
// picture came from. The capture time is zero when that access unit is too
// far back to be remembered.
func (d *Decoder) PictureTime() (pts time.Duration, capture time.Time) {
	return d.picPTS, d.picCapture
}

// PictureSize returns the size of the ready picture, 0×0 when none is.
func (d *Decoder) PictureSize() (w, h int) { return readySize(d.c) }

// Convert scales and converts the ready picture to BGR24 of width×height
// into dst, reusing dst.Pix when it is big enough, and sets dst's times to
// PictureTime. 0×0 means the picture's own size; a single 0 keeps the
// aspect ratio. A picture dst kept is released. It returns ErrNoPicture
// when no picture is ready.
func (d *Decoder) Convert(dst *Frame, width, height int) error {
	return d.convert(dst, width, height, false)
}

// ConvertKeep is Convert for a frame scaled to the size its first consumer
// wants (a model's input) while others may want the picture at full size:
// dst keeps a reference to the decoded picture (no copy), so dst.Full can
// convert it later, only when asked. Release dst when done with it, so the
// decoder gets the picture's buffers back; in steady state this allocates
// no Go memory.
func (d *Decoder) ConvertKeep(dst *Frame, width, height int) error {
	return d.convert(dst, width, height, true)
}

// Keep is ConvertKeep with the conversion left to dst.Convert: dst takes a
// reference to the ready picture and the size it is to be converted to
// (its Width and Height), and its Pix holds the picture only once Convert
// has been called, by whichever goroutine uses dst. A pipeline whose
// detector takes fewer frames than it samples thus converts only the ones
// it takes. Release dst when done with it. In steady state this allocates
// no Go memory.
func (d *Decoder) Keep(dst *Frame, width, height int) error {
	if err := keepReady(d.c, dst, width, height); err != nil {
		return fmt.Errorf("keep: %w", err)
	}
	dst.PTS, dst.Capture = d.picPTS, d.picCapture
	return nil
}

func (d *Decoder) convert(dst *Frame, width, height int, keep bool) error {
	if err := convertReady(d.c, dst, width, height, keep); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	dst.PTS, dst.Capture = d.picPTS, d.picCapture
	return nil
}

// Close releases the decoder's C memory. It is safe to call more than once.
func (d *Decoder) Close() {
	if d.c != nil {
		d.c.close()
		d.c = nil
	}
}
