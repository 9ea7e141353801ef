package analyzer

import (
	"fmt"
	"image"
	"unsafe"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// wrapCacheSize is how many frame buffers keep their OpenCV header between
// calls: a caller circulating up to 4 buffers of frames that need resizing
// creates none in steady state.
const wrapCacheSize = 4

// Preprocessor turns BGR24 frames into a model's input tensor: resize
// keeping the aspect ratio (bilinear; none for a frame the decoder already
// scaled to that size), letterbox padding, channel order and value =
// (pixel × scale − mean) / std, in NCHW float32 (with the input's Focus
// folded, each pixel where YOLOX's Focus would put it: models.FocusFold). Buffers and Mats are
// reused, so a stream of frames of one size allocates nothing after the
// first. It is not safe for concurrent use (one per pipeline); Close frees
// its C memory.
type Preprocessor struct {
	spec models.InputSpec

	// lut[c][v] is the tensor value of model channel c for a pixel byte v;
	// src[c] is the BGR byte (0 B, 1 G, 2 R) feeding model channel c.
	lut [3][256]float32
	src [3]int

	buf     []float32  // the NCHW tensor returned by Tensor
	fit     models.Fit // geometry the padding of buf was written for
	resized gocv.Mat   // the frame at the letterboxed size
	staging gocv.Mat   // a packed copy of frames whose rows have padding
	wraps   [wrapCacheSize]frameWrap
	next    int // wraps slot to replace next
}

// ConvertSize is the size a decoder should convert a w×h picture to for a
// model of input spec: straight to the model's letterboxed size (swscale,
// area averaging) when that at least halves the picture, else the picture's
// own size, which the Preprocessor then resizes with OpenCV's bilinear
// filter. Below half, that filter reads every source pixel and gives the
// pixels YOLO-family models are trained with (their letterbox uses it), at
// a cost that stays small for such pictures; from half on it skips source
// pixels (aliasing the models seldom saw), while the cost of converting
// and resizing the full picture grows with its size (a 1080p camera).
func ConvertSize(spec models.InputSpec, w, h int) (int, int) {
	fit := spec.Fit(w, h)
	if 2*fit.Width > w && 2*fit.Height > h {
		return w, h
	}
	return fit.Width, fit.Height
}

// frameWrap is an OpenCV header over a frame's Go pixel buffer (no copy).
type frameWrap struct {
	pix  *byte
	w, h int
	mat  gocv.Mat
}

// NewPreprocessor returns a preprocessor for the given model input.
func NewPreprocessor(spec models.InputSpec) (*Preprocessor, error) {
	switch {
	case spec.Width <= 0 || spec.Height <= 0:
		return nil, fmt.Errorf("preprocessor: input size %d×%d must be positive", spec.Width, spec.Height)
	case spec.Layout != models.LayoutNCHW:
		return nil, fmt.Errorf("preprocessor: input layout %q unsupported, want %s", spec.Layout, models.LayoutNCHW)
	case spec.Focus != "" && (spec.Focus != models.FocusFold || spec.Width%2 != 0 || spec.Height%2 != 0):
		return nil, fmt.Errorf("preprocessor: input focus %q on a %d×%d input unsupported, want %s on even sides or none",
			spec.Focus, spec.Width, spec.Height, models.FocusFold)
	case spec.Color != models.BGR && spec.Color != models.RGB:
		return nil, fmt.Errorf("preprocessor: input color %q unsupported, want %s or %s", spec.Color, models.BGR, models.RGB)
	case spec.Letterbox.Pad < 0 || spec.Letterbox.Pad > 255:
		return nil, fmt.Errorf("preprocessor: letterbox pad %d is not a grey level 0–255", spec.Letterbox.Pad)
	case !(spec.Scale > 0):
		return nil, fmt.Errorf("preprocessor: input scale %g must be > 0", spec.Scale)
	}
	p := &Preprocessor{
		spec:    spec,
		buf:     make([]float32, 3*spec.Width*spec.Height),
		resized: gocv.NewMat(),
		staging: gocv.NewMat(),
	}
	p.src = [3]int{0, 1, 2}
	if spec.Color == models.RGB {
		p.src = [3]int{2, 1, 0}
	}
	for c := range 3 {
		if !(spec.Std[c] > 0) {
			p.Close()
			return nil, fmt.Errorf("preprocessor: input std[%d] %g must be > 0", c, spec.Std[c])
		}
		for v := range 256 {
			p.lut[c][v] = (float32(v)*spec.Scale - spec.Mean[c]) / spec.Std[c]
		}
	}
	return p, nil
}

// Tensor converts f (BGR24) into the model input and returns it with the
// letterbox that maps model pixels back to f's source picture
// (f.SourceSize). A frame already at the letterboxed size of its source
// (Decoder.ConvertKeep to the Fit size) goes straight into the tensor;
// any other is resized first (GoCV, bilinear). The returned slice is
// reused: it is valid until the next call of Tensor or Close.
func (p *Preprocessor) Tensor(f *decode.Frame) ([]float32, models.Letterbox, error) {
	if f == nil || f.Width <= 0 || f.Height <= 0 || f.Stride < 3*f.Width ||
		len(f.Pix) < (f.Height-1)*f.Stride+3*f.Width {
		return nil, models.Letterbox{}, fmt.Errorf("preprocess: %s", describeBadFrame(f))
	}
	fit := p.spec.Fit(f.SourceSize())
	pix, stride := f.Pix, f.Stride
	if fit.Width != f.Width || fit.Height != f.Height {
		src, err := p.frameMat(f)
		if err != nil {
			return nil, models.Letterbox{}, err
		}
		gocv.Resize(*src, &p.resized, image.Pt(fit.Width, fit.Height), 0, 0, gocv.InterpolationLinear)
		if pix, err = p.resized.DataPtrUint8(); err != nil {
			return nil, models.Letterbox{}, fmt.Errorf("preprocess: resized frame: %w", err)
		}
		if stride = 3 * fit.Width; len(pix) < stride*fit.Height {
			return nil, models.Letterbox{}, fmt.Errorf("preprocess: resized frame has %d bytes, want %d", len(pix), stride*fit.Height)
		}
	}
	if fit != p.fit {
		p.pad()
		p.fit = fit
	}
	if p.spec.Focus == models.FocusFold {
		p.fillFolded(pix, stride, fit)
	} else {
		p.fill(pix, stride, fit)
	}
	return p.buf, fit.Letterbox, nil
}

// frameMat returns an OpenCV view of f: a cached header over f.Pix when the
// rows are packed, else a packed copy in p.staging.
func (p *Preprocessor) frameMat(f *decode.Frame) (*gocv.Mat, error) {
	if f.Stride != 3*f.Width || len(f.Pix) < f.Stride*f.Height {
		if p.staging.Rows() != f.Height || p.staging.Cols() != f.Width || p.staging.Type() != gocv.MatTypeCV8UC3 {
			p.staging.Close()
			p.staging = gocv.NewMatWithSize(f.Height, f.Width, gocv.MatTypeCV8UC3)
		}
		dst, err := p.staging.DataPtrUint8()
		if err != nil {
			return nil, fmt.Errorf("preprocess: staging copy: %w", err)
		}
		row := 3 * f.Width
		for y := range f.Height {
			copy(dst[y*row:(y+1)*row], f.Pix[y*f.Stride:y*f.Stride+row])
		}
		return &p.staging, nil
	}
	key := unsafe.SliceData(f.Pix)
	for i := range p.wraps {
		w := &p.wraps[i]
		if w.pix == key && w.w == f.Width && w.h == f.Height {
			return &w.mat, nil
		}
	}
	m, err := gocv.NewMatFromBytes(f.Height, f.Width, gocv.MatTypeCV8UC3, f.Pix[:f.Stride*f.Height])
	if err != nil {
		return nil, fmt.Errorf("preprocess: wrap %d×%d frame: %w", f.Width, f.Height, err)
	}
	w := &p.wraps[p.next]
	p.next = (p.next + 1) % len(p.wraps)
	if w.pix != nil {
		w.mat.Close()
	}
	*w = frameWrap{pix: key, w: f.Width, h: f.Height, mat: m}
	return &w.mat, nil
}

// pad fills the whole tensor with the padding value of each channel; fill
// then overwrites the image area. Needed only when the geometry changes.
// Plane i holds model channel i mod 3 in either layout.
func (p *Preprocessor) pad() {
	planes := int(p.spec.TensorShape()[1])
	plane := len(p.buf) / planes
	for i := range planes {
		v := p.lut[i%3][p.spec.Letterbox.Pad]
		ch := p.buf[i*plane : (i+1)*plane]
		for k := range ch {
			ch[k] = v
		}
	}
}

// fill writes the BGR24 image pix (fit.Width×fit.Height, rows stride bytes
// apart) into the tensor at (fit.X, fit.Y), converting each byte through
// the tables.
func (p *Preprocessor) fill(pix []byte, stride int, fit models.Fit) {
	plane := p.spec.Width * p.spec.Height
	// dst[k] and lut[k] are the tensor plane and table of the model channel
	// fed by byte k (0 B, 1 G, 2 R) of a pixel.
	var dst [3][]float32
	var lut [3]*[256]float32
	for c := range 3 {
		k := p.src[c]
		dst[k] = p.buf[c*plane : (c+1)*plane]
		lut[k] = &p.lut[c]
	}
	lb, lg, lr := lut[0], lut[1], lut[2]
	w := fit.Width
	row := 3 * w
	for y := range fit.Height {
		in := pix[y*stride : y*stride+row]
		o := (fit.Y+y)*p.spec.Width + fit.X
		db, dg, dr := dst[0][o:o+w], dst[1][o:o+w], dst[2][o:o+w]
		// Equal lengths let the compiler drop the bounds checks of dg and dr.
		dg, dr = dg[:len(db)], dr[:len(db)]
		in = in[:3*len(db)]
		for x := range db {
			px := in[3*x : 3*x+3 : 3*x+3]
			db[x] = lb[px[0]]
			dg[x] = lg[px[1]]
			dr[x] = lr[px[2]]
		}
	}
}

// fillFolded is fill for an input whose Focus is folded: tensor pixel
// (X, Y) of model channel c goes to plane 3i+c at (X/2, Y/2), where i is
// the place of (Y mod 2, X mod 2) in models.FocusOffsets. Each row is read
// once, a pair of pixels (an even and an odd column) at a time, into a
// contiguous run of each of its six planes.
func (p *Preprocessor) fillFolded(pix []byte, stride int, fit models.Fit) {
	half := p.spec.Width / 2
	plane := half * (p.spec.Height / 2)
	// dst[dy][dx][k] is the plane of the model channel fed by byte k of a
	// pixel at offsets (dy, dx).
	var dst [2][2][3][]float32
	var lut [3]*[256]float32
	for i, off := range models.FocusOffsets {
		for c := range 3 {
			k := p.src[c]
			dst[off[0]][off[1]][k] = p.buf[(3*i+c)*plane : (3*i+c+1)*plane]
			lut[k] = &p.lut[c]
		}
	}
	lb, lg, lr := lut[0], lut[1], lut[2]
	for y := range fit.Height {
		Y := fit.Y + y
		in := pix[y*stride : y*stride+3*fit.Width]
		even, odd := &dst[Y&1][0], &dst[Y&1][1]
		o := (Y/2)*half + fit.X/2 // where the row's first pair goes
		x := 0
		if fit.X&1 == 1 { // the row starts in an odd column
			odd[0][o], odd[1][o], odd[2][o] = lb[in[0]], lg[in[1]], lr[in[2]]
			x, o = 1, o+1
		}
		n := (fit.Width - x) / 2
		eb, eg, er := even[0][o:o+n], even[1][o:o+n], even[2][o:o+n]
		ob, og, or := odd[0][o:o+n], odd[1][o:o+n], odd[2][o:o+n]
		// Equal lengths let the compiler drop the bounds checks.
		eg, er, ob, og, or = eg[:len(eb)], er[:len(eb)], ob[:len(eb)], og[:len(eb)], or[:len(eb)]
		row := in[3*x : 3*x+6*len(eb)]
		for j := range eb {
			px := row[6*j : 6*j+6 : 6*j+6]
			eb[j], eg[j], er[j] = lb[px[0]], lg[px[1]], lr[px[2]]
			ob[j], og[j], or[j] = lb[px[3]], lg[px[4]], lr[px[5]]
		}
		if x+2*n < fit.Width { // and ends in an even column
			px := in[3*(x+2*n):]
			even[0][o+n], even[1][o+n], even[2][o+n] = lb[px[0]], lg[px[1]], lr[px[2]]
		}
	}
}

// Close frees the OpenCV memory. The preprocessor must not be used after.
func (p *Preprocessor) Close() error {
	p.resized.Close()
	p.staging.Close()
	for i := range p.wraps {
		if p.wraps[i].pix != nil {
			p.wraps[i].mat.Close()
		}
		p.wraps[i] = frameWrap{}
	}
	p.buf = nil
	return nil
}

func describeBadFrame(f *decode.Frame) string {
	if f == nil {
		return "nil frame"
	}
	return fmt.Sprintf("frame %d×%d with stride %d and %d bytes is not BGR24 (need stride ≥ %d and ≥ %d bytes)",
		f.Width, f.Height, f.Stride, len(f.Pix), 3*f.Width, max(0, (f.Height-1)*f.Stride+3*f.Width))
}
