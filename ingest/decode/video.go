package decode

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Video decodes a media file of any video codec FFmpeg reads (H.264, H.265,
// MPEG-4 Part 2, MJPEG...) frame by frame, for offline analysis. It decodes
// the file's first video stream with one thread. A Video is not safe for
// concurrent use; Close releases its C memory.
type Video struct {
	path   string
	in     *input
	info   streamInfo
	c      *codec
	eof    bool // the input is exhausted and the decoder is draining
	errors int
}

// OpenVideo opens the media file at path for decoding its video.
func OpenVideo(path string) (*Video, error) {
	in, err := openInput(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	c, err := newCodecFor(in, 1)
	if err != nil {
		in.close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Video{path: path, in: in, info: in.info(), c: c}, nil
}

// Codec returns FFmpeg's name of the video codec, such as "h264" or "mpeg4".
func (v *Video) Codec() string { return v.info.codecName }

// Width returns the picture width in pixels the container declares.
func (v *Video) Width() int { return v.info.width }

// Height returns the picture height in pixels the container declares.
func (v *Video) Height() int { return v.info.height }

// FrameRate returns the average frame rate the container declares, 0 when
// unknown.
func (v *Video) FrameRate() float64 { return v.info.frameRate }

// Duration returns the duration of the video stream, 0 when unknown.
func (v *Video) Duration() time.Duration { return v.info.duration }

// Errors returns how many damaged packets or pictures were skipped so far.
func (v *Video) Errors() int { return v.errors }

// Next decodes the next frame in presentation order into dst as BGR24 at
// its native size, with its PTS since the start of the stream, reusing
// dst.Pix when it is big enough. It returns io.EOF after the last frame.
// Damaged packets are skipped and counted (Errors).
func (v *Video) Next(dst *Frame) error {
	if err := v.Decode(); err != nil {
		return err
	}
	return v.convert(dst, 0, 0, false)
}

// Decode decodes the next picture in presentation order, for PictureTime,
// PictureSize and ConvertKeep, which a caller that wants only some frames
// (a sampler) calls for those alone. It returns io.EOF after the last
// picture. Damaged packets are skipped and counted (Errors).
func (v *Video) Decode() error {
	if v.c == nil {
		return fmt.Errorf("next frame of %s: %w", v.path, ErrClosed)
	}
	for {
		got, err := v.c.receive()
		if !errors.Is(err, io.EOF) {
			v.note(err)
		}
		switch {
		case got:
			return nil
		case errors.Is(err, io.EOF):
			return io.EOF
		case err != nil:
			continue // a damaged picture, counted
		case v.eof:
			return io.EOF // draining yet nothing more: done
		}
		if _, err := v.in.read(); errors.Is(err, io.EOF) {
			v.eof = true
			if err := v.c.sendEOF(); err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("next frame of %s: %w", v.path, err)
			}
			continue
		} else if err != nil {
			return fmt.Errorf("next frame of %s: %w", v.path, err)
		}
		v.note(v.c.sendInput(v.in)) // a damaged packet is skipped
	}
}

// PictureTime returns the PTS, since the start of the stream, of the
// picture Decode made ready.
func (v *Video) PictureTime() time.Duration {
	if v.c == nil || !v.c.ready {
		return 0
	}
	if ts := v.c.pictureTS(); ts != noPTS {
		return v.info.toDuration(ts - v.info.start)
	}
	return 0
}

// PictureSize returns the size of the picture Decode made ready, 0×0 when
// none is.
func (v *Video) PictureSize() (w, h int) { return readySize(v.c) }

// ConvertKeep converts the picture Decode made ready as
// Decoder.ConvertKeep does: to BGR24 of width×height into dst, keeping a
// reference to the picture for dst.Full; dst.PTS is PictureTime and
// dst.Capture zero.
func (v *Video) ConvertKeep(dst *Frame, width, height int) error {
	return v.convert(dst, width, height, true)
}

func (v *Video) convert(dst *Frame, width, height int, keep bool) error {
	if err := convertReady(v.c, dst, width, height, keep); err != nil {
		return fmt.Errorf("convert a frame of %s: %w", v.path, err)
	}
	dst.PTS, dst.Capture = v.PictureTime(), time.Time{}
	return nil
}

// note counts a damaged packet or picture: err or errors libavcodec logged.
func (v *Video) note(err error) {
	if n, _ := v.c.takeErrors(); n > 0 || err != nil {
		v.errors++
	}
}

// Close releases the file and the decoder. It is safe to call more than
// once.
func (v *Video) Close() error {
	if v.c != nil {
		v.c.close()
		v.c = nil
	}
	if v.in != nil {
		v.in.close()
		v.in = nil
	}
	return nil
}
