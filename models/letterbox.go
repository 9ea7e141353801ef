package models

import "math"

// Letterbox records how a frame was fitted into a model input: input =
// frame × Scale + (PadX, PadY). Detect uses it to map boxes back to frame
// pixels.
type Letterbox struct {
	Scale      float32 // input pixels per frame pixel
	PadX, PadY float32 // offset of the frame's top-left corner in the input, pixels
}

// Fit is the geometry of one frame size inside a model input.
type Fit struct {
	Letterbox
	Width, Height int // size of the resized frame inside the input, pixels
	X, Y          int // top-left corner of the resized frame inside the input, pixels
}

// Fit returns how a frameW×frameH frame is letterboxed into the input: scaled
// by min(W/frameW, H/frameH) keeping its aspect ratio (rounded to whole
// pixels), placed at the top-left or centred (the odd pixel of padding goes
// right or below).
func (s InputSpec) Fit(frameW, frameH int) Fit {
	if frameW <= 0 || frameH <= 0 || s.Width <= 0 || s.Height <= 0 {
		return Fit{}
	}
	r := min(float64(s.Width)/float64(frameW), float64(s.Height)/float64(frameH))
	w := min(max(int(math.Round(float64(frameW)*r)), 1), s.Width)
	h := min(max(int(math.Round(float64(frameH)*r)), 1), s.Height)
	f := Fit{Width: w, Height: h}
	if s.Letterbox.Align == AlignCenter {
		f.X, f.Y = (s.Width-w)/2, (s.Height-h)/2
	}
	f.Letterbox = Letterbox{Scale: float32(r), PadX: float32(f.X), PadY: float32(f.Y)}
	return f
}

// FrameBox maps a box from input pixels back to frame pixels and clips it
// to the frameW×frameH frame.
func (l Letterbox) FrameBox(b [4]float32, frameW, frameH int) [4]float32 {
	s := l.Scale
	if s <= 0 {
		s = 1
	}
	fw, fh := float32(frameW), float32(frameH)
	return [4]float32{
		clamp((b[0]-l.PadX)/s, 0, fw),
		clamp((b[1]-l.PadY)/s, 0, fh),
		clamp((b[2]-l.PadX)/s, 0, fw),
		clamp((b[3]-l.PadY)/s, 0, fh),
	}
}

func clamp(v, lo, hi float32) float32 {
	return min(max(v, lo), hi)
}
