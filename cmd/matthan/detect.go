package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// imageExts are the file extensions detect reads as still images; anything
// else is opened as a video.
var imageExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".tif": true, ".tiff": true, ".webp": true,
}

// detectMain runs a detector on an image or a video file: "matthan detect
// [flags] FILE". It prints one JSON object per analysed frame (-json), and/or
// writes an annotated copy (to -annotate OUT, else next to the input when
// -json is not given) and prints its path.
func detectMain(args []string) error {
	return detect(args, os.Stdout, os.Stderr)
}

// detectOptions are the parsed flags of detect.
type detectOptions struct {
	json      bool
	model     string
	modelsDir string
	threshold float64
	threads   int
	fps       float64
	annotate  string // annotated copy's path; "" = beside the input unless -json
	file      string
}

// videoOutExts are the extensions -annotate accepts for a video input: the
// annotated copy is an MP4 (H.264 when OpenCV's FFmpeg has an encoder).
var videoOutExts = map[string]bool{".mp4": true, ".m4v": true, ".mov": true}

func parseDetectFlags(args []string, stderr io.Writer) (detectOptions, error) {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: matthan detect [flags] FILE\n\n"+
			"Detects objects in an image (jpg, png…) or in every frame of a video file.\n"+
			"Without -json, writes FILE's annotated copy as <stem>.detections.jpg or .mp4 beside it;\n"+
			"-annotate OUT writes it to OUT (also with -json). Videos are written as H.264 MP4.\n\nflags:\n")
		fs.PrintDefaults()
	}
	var o detectOptions
	fs.BoolVar(&o.json, "json", false, "print one JSON object per frame instead of writing an annotated copy")
	fs.StringVar(&o.model, "model", "yolox_nano", "model `name` (a manifest of models/zoo: "+strings.Join(models.ZooNames(), ", ")+")")
	fs.StringVar(&o.modelsDir, "models", "", "`folder` of the model files (default $"+models.ModelsDirEnv+" or .deps/models)")
	fs.Float64Var(&o.threshold, "threshold", 0, "minimum confidence, 0–1 (default: the model's)")
	fs.IntVar(&o.threads, "threads", 1, "ONNX Runtime intra-op `threads`")
	fs.Float64Var(&o.fps, "fps", 0, "video: analyse this many frames per second of video (default every frame)")
	fs.StringVar(&o.annotate, "annotate", "", "write the annotated image (.jpg, .png…) or video (.mp4) to `OUT`")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() != 1:
		fs.Usage()
		return o, fmt.Errorf("want one FILE, got %d arguments", fs.NArg())
	case o.threshold < 0 || o.threshold >= 1:
		return o, fmt.Errorf("-threshold %g: want a confidence in (0, 1), or 0 for the model's", o.threshold)
	case o.threads < 1:
		return o, fmt.Errorf("-threads %d: want at least 1", o.threads)
	case o.fps < 0 || math.IsInf(o.fps, 0) || math.IsNaN(o.fps):
		return o, fmt.Errorf("-fps %g: want a positive rate, or 0 for every frame", o.fps)
	}
	o.file = fs.Arg(0)
	if o.annotate != "" {
		ext := strings.ToLower(filepath.Ext(o.annotate))
		if isImage(o.file) && !imageExts[ext] {
			return o, fmt.Errorf("-annotate %s: the input is an image, want an image file name (.jpg, .png, …)", o.annotate)
		}
		if !isImage(o.file) && !videoOutExts[ext] {
			return o, fmt.Errorf("-annotate %s: the input is a video, want an .mp4 file name", o.annotate)
		}
	}
	if o.modelsDir == "" {
		o.modelsDir = models.DefaultModelsDir()
	}
	return o, nil
}

// detect is detectMain with its output streams.
func detect(args []string, stdout, stderr io.Writer) error {
	o, err := parseDetectFlags(args, stderr)
	if err != nil {
		return err
	}
	if st, err := os.Stat(o.file); err != nil {
		return err
	} else if st.IsDir() {
		return fmt.Errorf("%s is a folder, want an image or video file", o.file)
	}
	m, err := models.Zoo(o.model)
	if err != nil {
		return fmt.Errorf("-model: %w", err)
	}
	if err := models.InitRuntime(models.DefaultRuntimePath()); err != nil {
		return err
	}
	det, err := models.NewDetector(m, o.modelsDir, models.Options{Threads: o.threads, Threshold: float32(o.threshold)})
	if err != nil {
		return err
	}
	defer det.Close()
	pre, err := analyzer.NewPreprocessor(det.Input())
	if err != nil {
		return err
	}
	defer pre.Close()

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	r := &detectRun{opts: o, det: det, pre: pre, out: out}
	if isImage(o.file) {
		err = r.image()
	} else {
		err = r.video()
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

// isImage reports whether detect reads file as a still image.
func isImage(file string) bool { return imageExts[strings.ToLower(filepath.Ext(file))] }

// annotatedOut is where the annotated copy goes ("" for none): -annotate,
// else <stem>.detections<ext> beside the input unless -json.
func (o detectOptions) annotatedOut(ext string) string {
	switch {
	case o.annotate != "":
		return o.annotate
	case o.json:
		return ""
	}
	return annotatedPath(o.file, ext)
}

// detectRun holds what the image and video paths share.
type detectRun struct {
	opts detectOptions
	det  *models.Detector
	pre  *analyzer.Preprocessor
	out  *bufio.Writer
}

// frameResult is the JSON line of one analysed frame.
type frameResult struct {
	Frame      int               `json:"frame"`
	TimeS      float64           `json:"time_s"`
	Width      int               `json:"width"`
	Height     int               `json:"height"`
	Detections []detectionResult `json:"detections"`
}

type detectionResult struct {
	Class      string     `json:"class"`
	Confidence float64    `json:"confidence"`
	Box        [4]float64 `json:"box"`
}

// analyse detects on one frame and, with -json, prints its line.
func (r *detectRun) analyse(f *decode.Frame, n int) ([]models.Detection, error) {
	input, lb, err := r.pre.Tensor(f)
	if err != nil {
		return nil, fmt.Errorf("frame %d: %w", n, err)
	}
	dets, err := r.det.Detect(input, lb, f.Width, f.Height)
	if err != nil {
		return nil, fmt.Errorf("frame %d: %w", n, err)
	}
	if !r.opts.json {
		return dets, nil
	}
	res := frameResult{Frame: n, TimeS: round(f.PTS.Seconds(), 3), Width: f.Width, Height: f.Height,
		Detections: make([]detectionResult, len(dets))}
	for i, d := range dets {
		res.Detections[i] = detectionResult{Class: d.Class, Confidence: round(float64(d.Confidence), 3),
			Box: [4]float64{round(float64(d.Box[0]), 1), round(float64(d.Box[1]), 1), round(float64(d.Box[2]), 1), round(float64(d.Box[3]), 1)}}
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	r.out.Write(b)
	return dets, r.out.WriteByte('\n')
}

func (r *detectRun) image() error {
	img := gocv.IMRead(r.opts.file, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		return fmt.Errorf("%s: not an image OpenCV can read", r.opts.file)
	}
	pix, err := img.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("%s: %w", r.opts.file, err)
	}
	f := &decode.Frame{Width: img.Cols(), Height: img.Rows(), Stride: 3 * img.Cols(), Pix: pix}
	dets, err := r.analyse(f, 0)
	dst := r.opts.annotatedOut(".jpg")
	if err != nil || dst == "" {
		return err
	}
	draw(&img, dets)
	if !gocv.IMWrite(dst, img) {
		return fmt.Errorf("write %s: OpenCV could not encode it", dst)
	}
	if r.opts.json {
		return nil // stdout carries only the JSON lines
	}
	_, err = fmt.Fprintln(r.out, dst)
	return err
}

func (r *detectRun) video() error {
	v, err := decode.OpenVideo(r.opts.file)
	if err != nil {
		return err
	}
	defer v.Close()

	var (
		writer *gocv.VideoWriter
		dst    = r.opts.annotatedOut(".mp4")
		frame  decode.Frame
		period = 0.0 // seconds between analysed frames; 0: every frame
		next   = 0.0 // time of the next frame to analyse
	)
	if r.opts.fps > 0 {
		period = 1 / r.opts.fps
	}
	defer func() {
		if writer != nil {
			writer.Close()
		}
	}()
	for n := 0; ; n++ {
		err := v.Next(&frame)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if period > 0 {
			t := frame.PTS.Seconds()
			if t+1e-6 < next {
				continue
			}
			for next <= t+1e-6 {
				next += period
			}
		}
		dets, err := r.analyse(&frame, n)
		if err != nil {
			return err
		}
		if dst == "" {
			continue
		}
		mat, err := gocv.NewMatFromBytes(frame.Height, frame.Width, gocv.MatTypeCV8UC3, frame.Pix[:frame.Stride*frame.Height])
		if err != nil {
			return fmt.Errorf("frame %d: %w", n, err)
		}
		draw(&mat, dets)
		if writer == nil {
			fps := v.FrameRate()
			if r.opts.fps > 0 || fps <= 0 {
				fps = r.opts.fps
			}
			if fps <= 0 {
				fps = 25
			}
			if writer, err = openVideoWriter(dst, fps, frame.Width, frame.Height); err != nil {
				mat.Close()
				return err
			}
		}
		err = writer.Write(mat)
		mat.Close()
		if err != nil {
			return fmt.Errorf("write %s: %w", dst, err)
		}
	}
	if dst == "" {
		return nil
	}
	if writer == nil {
		return fmt.Errorf("%s: no frames decoded", r.opts.file)
	}
	if err := writer.Close(); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	writer = nil
	if r.opts.json {
		return nil // stdout carries only the JSON lines
	}
	_, err = fmt.Fprintln(r.out, dst)
	return err
}

// openVideoWriter opens an H.264 ("avc1") MP4 writer through OpenCV's
// FFmpeg backend, falling back to MPEG-4 Part 2 ("mp4v") when that FFmpeg
// has no H.264 encoder.
func openVideoWriter(dst string, fps float64, w, h int) (*gocv.VideoWriter, error) {
	for _, codec := range []string{"avc1", "mp4v"} {
		vw, err := gocv.VideoWriterFile(dst, codec, fps, w, h, true)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", dst, err)
		}
		if vw.IsOpened() {
			return vw, nil
		}
		vw.Close()
	}
	return nil, fmt.Errorf("write %s: OpenCV can encode neither H.264 nor MPEG-4 video", dst)
}

// annotatedPath is <dir>/<stem>.detections<ext> beside the input file.
func annotatedPath(file, ext string) string {
	return strings.TrimSuffix(file, filepath.Ext(file)) + ".detections" + ext
}

// classColours gives each product label a fixed colour; others are yellow.
var classColours = map[string]color.RGBA{
	"person":     {R: 255, G: 64, B: 64, A: 255},
	"bicycle":    {R: 255, G: 160, B: 0, A: 255},
	"motorcycle": {R: 255, G: 0, B: 255, A: 255},
	"car":        {R: 0, G: 220, B: 0, A: 255},
	"bus":        {R: 0, G: 160, B: 255, A: 255},
	"truck":      {R: 0, G: 255, B: 255, A: 255},
	"fire":       {R: 255, G: 0, B: 0, A: 255},
	"smoke":      {R: 160, G: 160, B: 160, A: 255},
}

// draw boxes each detection on img with its label and confidence.
func draw(img *gocv.Mat, dets []models.Detection) {
	for i := len(dets) - 1; i >= 0; i-- { // the most confident drawn last, on top
		d := dets[i]
		c, ok := classColours[d.Class]
		if !ok {
			c = color.RGBA{R: 255, G: 255, A: 255}
		}
		r := image.Rect(int(d.Box[0]), int(d.Box[1]), int(d.Box[2]), int(d.Box[3]))
		gocv.Rectangle(img, r, c, 2)
		label := fmt.Sprintf("%s %.2f", d.Class, d.Confidence)
		size := gocv.GetTextSize(label, gocv.FontHersheySimplex, 0.4, 1)
		x := max(min(r.Min.X, img.Cols()-size.X-4), 0) // keep the label inside the picture
		y := max(r.Min.Y, size.Y+4)
		gocv.Rectangle(img, image.Rect(x, y-size.Y-4, x+size.X+4, y), c, -1)
		gocv.PutText(img, label, image.Pt(x+2, y-3), gocv.FontHersheySimplex, 0.4, color.RGBA{A: 255}, 1)
	}
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
