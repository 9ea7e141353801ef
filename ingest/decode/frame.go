package decode

import (
	"fmt"
	"time"
)

// Frame is a decoded picture converted to packed BGR24, the layout OpenCV
// and the detectors expect.
//
// A Frame may be a scaled copy of its picture (Decoder.ConvertKeep, at the
// size a model wants): SourceSize tells the picture's own size, in which
// geometry stays, and Full gives the picture at that size, converted only
// when asked. Such a Frame holds a reference to the decoded picture until
// Release, the next conversion into it, or Close (FramePool does this for
// frames that circulate between goroutines). A Frame is not safe for
// concurrent use; one goroutine at a time may use it (handing it over
// through a channel is fine).
type Frame struct {
	Width, Height int
	// Stride is the distance in bytes between the starts of two rows.
	Stride int
	// Pix holds Height rows of Width B,G,R byte triplets. Converting into a
	// Frame reuses Pix when it is big enough.
	Pix []byte
	// PTS is the presentation time since the start of the stream.
	PTS time.Duration
	// Capture is the wall-clock capture time of the picture; zero for files.
	Capture time.Time

	// srcW×srcH is the size of the decoded picture; 0×0 when it is the
	// frame's own.
	srcW, srcH int
	// src is the kept picture and its full-size conversion; nil until the
	// first ConvertKeep or Keep, then reused.
	src *source
	// pending: Keep took the picture and Pix does not hold it yet (Convert).
	pending bool
}

// source is what a scaled Frame keeps of its picture so Full can convert
// it at full size, once, into a reused buffer.
type source struct {
	pic       *keptPicture
	full      Frame
	converted bool // full holds the kept picture
}

// SourceSize returns the size of the decoded picture f was converted from:
// f's own size unless f was scaled.
func (f *Frame) SourceSize() (w, h int) {
	if f.srcW > 0 && f.srcH > 0 {
		return f.srcW, f.srcH
	}
	return f.Width, f.Height
}

// Full returns f's picture at its source size: f itself when f is not
// scaled, else the picture ConvertKeep kept, converted to BGR24 on the
// first call and the same Frame afterwards (with f's PTS and Capture). The
// returned Frame is valid until f is released, converted into again or
// closed. It fails, wrapping ErrNoPicture, for a scaled frame whose picture
// was not kept or was released.
func (f *Frame) Full() (*Frame, error) {
	w, h := f.SourceSize()
	if f.Width == w && f.Height == h {
		if err := f.Convert(); err != nil {
			return nil, err
		}
		return f, nil
	}
	s := f.src
	if s == nil || !s.pic.held() {
		return nil, fmt.Errorf("full-size frame: %w: the %dx%d frame of a %dx%d picture holds no reference to it",
			ErrNoPicture, f.Width, f.Height, w, h)
	}
	if !s.converted {
		s.full.resize(w, h)
		if err := s.pic.convert(s.full.Pix, s.full.Stride, w, h, false); err != nil {
			return nil, fmt.Errorf("full-size frame: %w", err)
		}
		s.converted = true
	}
	s.full.PTS, s.full.Capture = f.PTS, f.Capture
	return &s.full, nil
}

// Convert converts the picture Decoder.Keep took into Pix, at the frame's
// size, the first time it is called after Keep; it does nothing for a frame
// whose Pix already holds its picture. It fails, wrapping ErrNoPicture,
// when the picture was released before being converted.
func (f *Frame) Convert() error {
	if !f.pending {
		return nil
	}
	if f.src == nil || !f.src.pic.held() {
		return fmt.Errorf("convert kept picture: %w: released before it was converted", ErrNoPicture)
	}
	if err := f.src.pic.convert(f.Pix, f.Stride, f.Width, f.Height, true); err != nil {
		return fmt.Errorf("convert kept picture: %w", err)
	}
	f.pending = false
	return nil
}

// Release drops the reference to the decoded picture that ConvertKeep or
// Keep took, giving its buffers back to the decoder; Full fails from then on
// until the next ConvertKeep, and so does Convert after a Keep. Pix and the
// geometry stay. Safe on any Frame.
func (f *Frame) Release() {
	if f.src != nil {
		f.src.pic.release()
		f.src.converted = false
	}
}

// Close releases the kept picture and frees the C memory ConvertKeep
// allocated for it. The Frame stays usable (a later ConvertKeep allocates
// afresh). Safe on any Frame, more than once.
func (f *Frame) Close() {
	if f.src != nil {
		f.src.pic.close()
		f.src = nil
	}
}

// resize sets the frame's geometry to w×h, reusing Pix when it has room.
func (f *Frame) resize(w, h int) {
	f.Width, f.Height, f.Stride = w, h, 3*w
	f.srcW, f.srcH, f.pending = 0, 0, false
	n := f.Stride * h
	if cap(f.Pix) < n {
		f.Pix = make([]byte, n)
	}
	f.Pix = f.Pix[:n]
}

// convertReady is convertPicture for a codec that may be closed (nil) or
// have no picture ready, which it reports as ErrClosed or ErrNoPicture.
func convertReady(c *codec, dst *Frame, width, height int, keep bool) error {
	if err := pictureReady(c); err != nil {
		return err
	}
	return convertPicture(c, dst, width, height, keep)
}

// pictureReady reports ErrClosed for a closed (nil) codec and ErrNoPicture
// for one with no picture ready.
func pictureReady(c *codec) error {
	switch {
	case c == nil:
		return ErrClosed
	case !c.ready:
		return ErrNoPicture
	}
	return nil
}

// readySize is the size of c's ready picture, 0×0 when none is.
func readySize(c *codec) (w, h int) {
	if c == nil || !c.ready {
		return 0, 0
	}
	return c.pictureSize()
}

// convertPicture converts the current picture of c to BGR24 of
// width×height (resolved by targetSize) into dst, releasing what dst kept
// before. With keep, a scaled dst keeps a reference to the picture for
// Full.
func convertPicture(c *codec, dst *Frame, width, height int, keep bool) error {
	w, h, err := prepare(c, dst, width, height)
	if err != nil {
		return err
	}
	if err := c.convert(dst.Pix, dst.Stride, dst.Width, dst.Height); err != nil {
		return err
	}
	if !keep || dst.Width == w && dst.Height == h { // the frame is its own full-size picture
		return nil
	}
	return keepPicture(c, dst)
}

// keepReady is Decoder.Keep's work: dst takes a reference to the ready
// picture of c, to be converted at width×height (resolved by targetSize) by
// dst.Convert, and releases what it kept before.
func keepReady(c *codec, dst *Frame, width, height int) error {
	if err := pictureReady(c); err != nil {
		return err
	}
	if _, _, err := prepare(c, dst, width, height); err != nil {
		return err
	}
	if err := keepPicture(c, dst); err != nil {
		return err
	}
	dst.pending = true
	return nil
}

// prepare releases what dst kept and gives it the geometry of c's picture
// (w×h) converted to width×height (resolved by targetSize).
func prepare(c *codec, dst *Frame, width, height int) (w, h int, err error) {
	w, h = c.pictureSize()
	if width, height, err = targetSize(w, h, width, height); err != nil {
		return 0, 0, err
	}
	dst.Release()
	dst.resize(width, height)
	if width != w || height != h {
		dst.srcW, dst.srcH = w, h
	}
	return w, h, nil
}

// keepPicture makes dst keep a reference to c's picture.
func keepPicture(c *codec, dst *Frame) error {
	if dst.src == nil {
		pic, err := newKeptPicture()
		if err != nil {
			return err
		}
		dst.src = &source{pic: pic}
	}
	return c.keep(dst.src.pic)
}

// targetSize resolves a requested size against the source size w×h.
func targetSize(w, h, width, height int) (int, int, error) {
	switch {
	case width < 0 || height < 0 || w <= 0 || h <= 0:
		return 0, 0, fmt.Errorf("invalid size %dx%d for a %dx%d picture", width, height, w, h)
	case width == 0 && height == 0:
		return w, h, nil
	case width == 0:
		return max(1, (w*height+h/2)/h), height, nil
	case height == 0:
		return width, max(1, (h*width+w/2)/w), nil
	}
	return width, height, nil
}

// FramePool is a fixed set of Frames handed between a decoding goroutine,
// which takes free ones (Get), and the goroutines that use them, which give
// them back (Put) when done: the buffers are reused, and a frame's kept
// picture goes back to the decoder when the frame comes back. Get and Put
// are safe for concurrent use; Close is called once no frame is in use.
type FramePool struct {
	frames []Frame
	free   chan *Frame
}

// NewFramePool returns a pool of n frames, all free.
func NewFramePool(n int) *FramePool {
	p := &FramePool{frames: make([]Frame, n), free: make(chan *Frame, n)}
	for i := range p.frames {
		p.free <- &p.frames[i]
	}
	return p
}

// Get takes a free frame, waiting for one when all are in use.
func (p *FramePool) Get() *Frame { return <-p.free }

// Put releases f's kept picture and makes f free again.
func (p *FramePool) Put(f *Frame) {
	f.Release()
	p.free <- f
}

// Close frees the C memory of every frame.
func (p *FramePool) Close() {
	for i := range p.frames {
		p.frames[i].Close()
	}
}
