package benchmarks

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Chart geometry, in pixels.
const (
	chartWidth  = 1300
	labelWidth  = 440 // left column of bar labels
	barMaxWidth = 520 // the longest bar of a section
	rowHeight   = 20
	titleHeight = 30
	chartMargin = 14
)

// Chart colours: one per section, so each section reads as its own scale.
var (
	chartBackground = color.RGBA{255, 255, 255, 255}
	chartText       = color.RGBA{30, 30, 30, 255}
	chartGrid       = color.RGBA{225, 225, 225, 255}
	sectionColours  = []color.RGBA{
		{66, 133, 244, 255}, // inference
		{52, 168, 83, 255},  // decode
		{251, 140, 0, 255},  // full path
		{171, 71, 188, 255}, // peer comparison
	}
)

// chartBar is one labelled rate.
type chartBar struct {
	label string
	value float64
	text  string // printed after the bar
}

// chartSection is a group of bars on a common scale.
type chartSection struct {
	title string
	bars  []chartBar
}

// sections turns the report into the chart's groups of bars.
func (r *Report) sections() []chartSection {
	var s []chartSection
	inf := chartSection{title: "(a) inference, frames/s (one tensor in a loop)"}
	for _, in := range r.Inference {
		inf.bars = append(inf.bars, chartBar{in.Name, in.FramesPerSec, fmt.Sprintf("%.1f", in.FramesPerSec)})
	}
	s = append(s, inf)
	dec := chartSection{title: "(b) raw decode, frames/s (1 thread)"}
	for _, d := range r.Decode {
		dec.bars = append(dec.bars, chartBar{fmt.Sprintf("%s %s", strings.TrimSuffix(d.Clip, ".mp4"), d.Mode), d.FramesPerSec,
			fmt.Sprintf("%.0f", d.FramesPerSec)})
	}
	s = append(s, dec)
	live := chartSection{title: "(c) full path over RTSP, frames analysed/s"}
	for _, l := range r.Live {
		live.bars = append(live.bars, chartBar{l.Name, l.FramesPerSec,
			fmt.Sprintf("%.1f of %.1f, p99 %.0f ms, %d drops", l.FramesPerSec, l.DemandPerSec, l.P99Ms, l.Drops)})
	}
	s = append(s, live)
	if p := r.Peer; p != nil {
		peer := chartSection{title: fmt.Sprintf("(d) same files at %g fps, frames/s: ours vs Python peer baseline", p.FPS)}
		for _, o := range []OfflineResult{p.Cameras, p.Ours, p.OursSequential, p.Baseline, p.BaselineDefault} {
			peer.bars = append(peer.bars, chartBar{o.Name, o.FramesPerSec, fmt.Sprintf("%.1f", o.FramesPerSec)})
		}
		s = append(s, peer)
	}
	return s
}

// WriteChart draws the report's rates as horizontal bars, one section per
// measurement family with its own scale, and writes it as a PNG file.
func (r *Report) WriteChart(path string) error {
	secs := r.sections()
	h := 2*chartMargin + titleHeight
	for _, s := range secs {
		h += titleHeight + len(s.bars)*rowHeight
	}
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(chartBackground), image.Point{}, draw.Src)

	mode := "full run"
	if r.Quick {
		mode = "quick run (indicative)"
	}
	y := chartMargin + 16
	drawText(img, chartMargin, y, fmt.Sprintf("matthan bench, %s, %s: %s, %d CPUs, %d worker(s) x %d thread(s)",
		mode, r.Started.Format("2006-01-02 15:04 MST"), r.Model, r.Host.CPUs, r.Workers, r.Threads))
	y = chartMargin + titleHeight
	for i, s := range secs {
		colour := sectionColours[i%len(sectionColours)]
		drawText(img, chartMargin, y+20, s.title)
		y += titleHeight
		top := 0.0
		for _, b := range s.bars {
			top = max(top, b.value)
		}
		for _, b := range s.bars {
			fill(img, image.Rect(labelWidth, y+2, labelWidth+barMaxWidth, y+rowHeight-2), chartGrid)
			if top > 0 && b.value > 0 {
				w := max(int(float64(barMaxWidth)*b.value/top+0.5), 1)
				fill(img, image.Rect(labelWidth, y+2, labelWidth+w, y+rowHeight-2), colour)
			}
			drawText(img, chartMargin+8, y+14, clip(b.label, (labelWidth-chartMargin-16)/7))
			drawText(img, labelWidth+barMaxWidth+8, y+14, clip(b.text, (chartWidth-labelWidth-barMaxWidth-16)/7))
			y += rowHeight
		}
	}

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: chart: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("bench: chart %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: chart %s: %w", path, err)
	}
	return nil
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// asciiText replaces the symbols the labels use by ASCII, the only glyphs
// of the bitmap font.
var asciiText = strings.NewReplacer("×", "x", "→", "->", "∥", "||", "÷", "/", "≥", ">=", "…", "...")

// drawText writes s with its baseline at (x, y).
func drawText(img *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(chartText), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(asciiText.Replace(s))
}

// clip shortens s to n characters.
func clip(s string, n int) string {
	s = asciiText.Replace(s)
	if len(s) <= n || n < 4 {
		return s
	}
	return s[:n-3] + "..."
}
