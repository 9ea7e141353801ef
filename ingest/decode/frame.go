package decode

import "time"

// Frame is a decoded picture converted to packed BGR24, the layout OpenCV
// and the detectors expect.
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
}

// resize sets the frame's geometry to w×h, reusing Pix when it has room.
func (f *Frame) resize(w, h int) {
	f.Width, f.Height, f.Stride = w, h, 3*w
	n := f.Stride * h
	if cap(f.Pix) < n {
		f.Pix = make([]byte, n)
	}
	f.Pix = f.Pix[:n]
}
