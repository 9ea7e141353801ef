package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/ingest/decode"
)

// SnapshotInterval is how often a pipeline refreshes its camera's latest
// picture: often enough for a camera wall, rare enough to cost nothing
// (one JPEG encode of a few milliseconds).
const SnapshotInterval = 2 * time.Second

// snapshotQuality is the JPEG quality of the latest picture.
const snapshotQuality = 80

// latestPicture holds a camera's latest picture as JPEG, written by the
// decoder goroutine and read by the API.
type latestPicture struct {
	mu      sync.Mutex
	jpeg    []byte
	capture time.Time
}

// due tells whether a frame captured at t should replace the picture.
func (l *latestPicture) due(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.jpeg == nil || t.Sub(l.capture) >= SnapshotInterval || t.Before(l.capture)
}

func (l *latestPicture) set(jpeg []byte, t time.Time) {
	l.mu.Lock()
	l.jpeg, l.capture = jpeg, t
	l.mu.Unlock()
}

// get returns the picture and its capture time; ok is false before the first.
func (l *latestPicture) get() ([]byte, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.jpeg, l.capture, l.jpeg != nil
}

// snapshotJPEG encodes the picture of f at full size as the camera's
// latest picture.
func snapshotJPEG(f *decode.Frame) ([]byte, error) {
	full, err := f.Full()
	if err != nil {
		return nil, fmt.Errorf("latest picture: %w", err)
	}
	return EncodeJPEG(full, snapshotQuality)
}

// EncodeJPEG encodes a BGR24 frame as JPEG at the given quality (1-100).
func EncodeJPEG(f *decode.Frame, quality int) ([]byte, error) {
	if f.Width <= 0 || f.Height <= 0 || f.Stride < 3*f.Width || len(f.Pix) < f.Stride*(f.Height-1)+3*f.Width {
		return nil, errors.New("encode JPEG: malformed frame")
	}
	pix := f.Pix
	if f.Stride != 3*f.Width {
		pix = make([]byte, 3*f.Width*f.Height)
		for y := range f.Height {
			copy(pix[y*3*f.Width:(y+1)*3*f.Width], f.Pix[y*f.Stride:])
		}
	}
	img, err := gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8UC3, pix[:3*f.Width*f.Height])
	if err != nil {
		return nil, fmt.Errorf("encode JPEG: %w", err)
	}
	defer img.Close()
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, img, []int{gocv.IMWriteJpegQuality, quality})
	if err != nil {
		return nil, fmt.Errorf("encode JPEG: %w", err)
	}
	defer buf.Close()
	out := bytes.Clone(buf.GetBytes())
	if len(out) == 0 {
		return nil, errors.New("encode JPEG: no output")
	}
	return out, nil
}
