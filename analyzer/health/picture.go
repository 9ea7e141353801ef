package health

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/ingest/decode"
)

// Sizes the picture is measured at.
const (
	// detailWidth caps the width sharpness is measured at: fine enough that
	// a lens out of focus shows at the resolutions cameras stream (a
	// 1080p picture is measured at a third of its size), small enough to
	// cost about a millisecond.
	detailWidth = 640
	// thumbWidth is the width of the grey thumbnail that change, darkness,
	// uniformity and the view are measured on. Averaging 4×4 pixels (for a
	// 640-wide stream) cuts sensor and coding noise by about four while
	// keeping the scene's structure.
	thumbWidth = 160
)

// measures are the numbers taken from one picture.
type measures struct {
	// Mean and Std are the mean and standard deviation of the thumbnail's
	// luma, 0–255.
	Mean, Std float64
	// Diff is the mean absolute luma difference from the previous
	// thumbnail, 0–255; NaN for the first picture or after a size change.
	Diff float64
	// Sharpness is the variance of the Laplacian of the detail picture
	// divided by the variance of the picture: high-frequency energy
	// relative to contrast, so that it does not change with the light.
	Sharpness float64
	// Shift is the displacement of the view from the reference in
	// thumbnail pixels (phase correlation of edge maps); Response is the
	// strength of the correlation peak, 0–1; Corr is the correlation
	// coefficient of the edge map with the reference at zero shift. All
	// zero while there is no reference.
	Shift    image.Point
	ShiftLen float64
	Response float64
	Corr     float64
	// HasRef says whether Shift, Response and Corr were measured.
	HasRef bool
}

// picture measures frames with OpenCV. It keeps the previous thumbnail and
// the reference edge map. It is not safe for concurrent use; close frees
// its C memory.
type picture struct {
	frame  gocv.Mat // the frame, packed BGR
	gray   gocv.Mat // full-size luma
	detail gocv.Mat // luma at most detailWidth wide
	lap    gocv.Mat // Laplacian of detail, float32
	thumb  gocv.Mat // luma thumbnail
	blur   gocv.Mat // smoothed thumbnail
	gx, gy gocv.Mat // its gradients
	edges  gocv.Mat // gradient magnitude, float32
	ref    gocv.Mat // reference edge map, float32; empty until learned
	window gocv.Mat // Hann window for phase correlation
	pc1    gocv.Mat // copies of ref and edges for phase correlation
	pc2    gocv.Mat
	mean   gocv.Mat // MeanStdDev outputs
	std    gocv.Mat

	prev     []byte // previous thumbnail
	size     image.Point
	refCount int // edge maps averaged into ref so far
}

func newPicture() *picture {
	return &picture{
		frame: gocv.NewMat(), gray: gocv.NewMat(), detail: gocv.NewMat(), lap: gocv.NewMat(),
		thumb: gocv.NewMat(), blur: gocv.NewMat(), gx: gocv.NewMat(), gy: gocv.NewMat(),
		edges: gocv.NewMat(), ref: gocv.NewMat(), window: gocv.NewMat(), pc1: gocv.NewMat(), pc2: gocv.NewMat(),
		mean: gocv.NewMat(), std: gocv.NewMat(),
	}
}

// close frees the OpenCV memory.
func (p *picture) close() {
	for _, m := range []*gocv.Mat{&p.frame, &p.gray, &p.detail, &p.lap, &p.thumb, &p.blur,
		&p.gx, &p.gy, &p.edges, &p.ref, &p.window, &p.pc1, &p.pc2, &p.mean, &p.std} {
		m.Close()
	}
}

// checkFrame says what is wrong with f, or nil when it is BGR24 that fits
// its Pix.
func checkFrame(f *decode.Frame) error {
	switch {
	case f == nil:
		return fmt.Errorf("%w: nil frame", ErrBadFrame)
	case f.Width < 8 || f.Height < 8 || f.Stride < 3*f.Width || len(f.Pix) < (f.Height-1)*f.Stride+3*f.Width:
		return fmt.Errorf("%w: %d×%d with stride %d and %d bytes is not BGR24 of at least 8×8",
			ErrBadFrame, f.Width, f.Height, f.Stride, len(f.Pix))
	}
	return nil
}

// measure takes the measures of f. A frame of a new size drops the previous
// thumbnail and the reference.
func (p *picture) measure(f *decode.Frame) (measures, error) {
	if err := checkFrame(f); err != nil {
		return measures{}, err
	}
	if p.frame.Rows() != f.Height || p.frame.Cols() != f.Width {
		p.frame.Close()
		p.frame = gocv.NewMatWithSize(f.Height, f.Width, gocv.MatTypeCV8UC3)
	}
	dst, err := p.frame.DataPtrUint8()
	if err != nil {
		return measures{}, fmt.Errorf("frame copy: %w", err)
	}
	row := 3 * f.Width
	for y := range f.Height {
		copy(dst[y*row:(y+1)*row], f.Pix[y*f.Stride:y*f.Stride+row])
	}
	gocv.CvtColor(p.frame, &p.gray, gocv.ColorBGRToGray)

	detail := &p.gray
	if f.Width > detailWidth {
		gocv.Resize(p.gray, &p.detail, scaled(f.Width, f.Height, detailWidth), 0, 0, gocv.InterpolationArea)
		detail = &p.detail
	}
	var m measures
	gocv.Laplacian(*detail, &p.lap, gocv.MatTypeCV32F, 1, 1, 0, gocv.BorderReplicate)
	lapVar := p.variance(p.lap)
	_, std := p.meanStd(*detail)
	m.Sharpness = lapVar / math.Max(std*std, 1)

	size := scaled(f.Width, f.Height, thumbWidth)
	gocv.Resize(p.gray, &p.thumb, size, 0, 0, gocv.InterpolationArea)
	if size != p.size {
		p.size, p.prev = size, nil
		p.resetRef()
		p.window.Close()
		p.window = hannWindow(size)
	}
	th, err := p.thumb.DataPtrUint8()
	if err != nil {
		return measures{}, fmt.Errorf("thumbnail: %w", err)
	}
	m.Mean, m.Std, m.Diff = thumbStats(th, p.prev)
	p.prev = append(p.prev[:0], th...)

	gocv.GaussianBlur(p.thumb, &p.blur, image.Pt(3, 3), 0, 0, gocv.BorderReplicate)
	gocv.Sobel(p.blur, &p.gx, gocv.MatTypeCV32F, 1, 0, 3, 1, 0, gocv.BorderReplicate)
	gocv.Sobel(p.blur, &p.gy, gocv.MatTypeCV32F, 0, 1, 3, 1, 0, gocv.BorderReplicate)
	gocv.Magnitude(p.gx, p.gy, &p.edges)
	if p.refCount > 0 {
		// cv::phaseCorrelate multiplies its inputs by the window in place
		// when their size needs no padding: give it copies.
		p.ref.CopyTo(&p.pc1)
		p.edges.CopyTo(&p.pc2)
		shift, resp := gocv.PhaseCorrelate(p.pc1, p.pc2, p.window)
		m.Shift = image.Pt(int(math.Round(float64(shift.X))), int(math.Round(float64(shift.Y))))
		m.ShiftLen = math.Hypot(float64(shift.X), float64(shift.Y))
		m.Response = resp
		m.Corr, err = correlation(p.ref, p.edges)
		if err != nil {
			return measures{}, err
		}
		m.HasRef = true
	}
	return m, nil
}

// learnRef averages the last measured edge map into the reference: a plain
// mean over the first n maps, then an exponential average with weight
// 1/maxN, so the reference follows slow changes of the scene (shadows,
// parked cars) but not a sudden one.
func (p *picture) learnRef(maxN int) {
	if p.edges.Empty() {
		return
	}
	if p.refCount == 0 {
		p.ref.Close()
		p.ref = p.edges.Clone()
		p.refCount = 1
		return
	}
	if p.refCount < maxN {
		p.refCount++
	}
	gocv.AccumulatedWeighted(p.edges, &p.ref, 1/float64(p.refCount))
}

// resetRef forgets the reference edge map.
func (p *picture) resetRef() {
	p.ref.Close()
	p.ref = gocv.NewMat()
	p.refCount = 0
}

// meanStd returns the mean and standard deviation of a one-channel Mat.
func (p *picture) meanStd(m gocv.Mat) (float64, float64) {
	gocv.MeanStdDev(m, &p.mean, &p.std)
	return p.mean.GetDoubleAt(0, 0), p.std.GetDoubleAt(0, 0)
}

// variance returns the variance of a one-channel Mat.
func (p *picture) variance(m gocv.Mat) float64 {
	_, s := p.meanStd(m)
	return s * s
}

// scaled returns the size w×h scaled down to width (never up).
func scaled(w, h, width int) image.Point {
	if w <= width {
		return image.Pt(w, h)
	}
	return image.Pt(width, max(1, (h*width+w/2)/w))
}

// thumbStats returns the mean and standard deviation of th, and its mean
// absolute difference from prev (NaN when prev is nil).
func thumbStats(th, prev []byte) (mean, std, diff float64) {
	var sum, sq, ad uint64
	for i, v := range th {
		sum += uint64(v)
		sq += uint64(v) * uint64(v)
		if prev != nil {
			d := int(v) - int(prev[i])
			if d < 0 {
				d = -d
			}
			ad += uint64(d)
		}
	}
	n := float64(len(th))
	mean = float64(sum) / n
	std = math.Sqrt(math.Max(float64(sq)/n-mean*mean, 0))
	diff = math.NaN()
	if prev != nil {
		diff = float64(ad) / n
	}
	return mean, std, diff
}

// correlation returns the correlation coefficient of two float32 Mats of
// the same size; 0 when either is flat.
func correlation(a, b gocv.Mat) (float64, error) {
	x, err := a.DataPtrFloat32()
	if err != nil {
		return 0, fmt.Errorf("reference: %w", err)
	}
	y, err := b.DataPtrFloat32()
	if err != nil {
		return 0, fmt.Errorf("edge map: %w", err)
	}
	if len(x) != len(y) || len(x) == 0 {
		return 0, fmt.Errorf("edge maps of %d and %d values", len(x), len(y))
	}
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		u, v := float64(x[i]), float64(y[i])
		sx += u
		sy += v
		sxx += u * u
		syy += v * v
		sxy += u * v
	}
	n := float64(len(x))
	cov := sxy/n - sx/n*sy/n
	vx, vy := sxx/n-sx/n*sx/n, syy/n-sy/n*sy/n
	if vx <= 1e-9 || vy <= 1e-9 {
		return 0, nil
	}
	return cov / math.Sqrt(vx*vy), nil
}

// hannWindow returns a 2-D Hann window of the given size (float32), which
// keeps the picture's borders from dominating phase correlation.
func hannWindow(size image.Point) gocv.Mat {
	w := gocv.NewMatWithSize(size.Y, size.X, gocv.MatTypeCV32F)
	data, err := w.DataPtrFloat32()
	if err != nil {
		w.Close()
		return gocv.NewMat() // no window: phase correlation still works, less precisely
	}
	hann := func(i, n int) float64 {
		if n < 2 {
			return 1
		}
		return 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
	}
	for y := range size.Y {
		wy := hann(y, size.Y)
		for x := range size.X {
			data[y*size.X+x] = float32(wy * hann(x, size.X))
		}
	}
	return w
}
