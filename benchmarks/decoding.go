package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/matthan/matthan/analyzer"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/models"
)

// DecodeResult is the raw decode rate of one clip in one mode, on one
// thread, with the packets already in memory.
type DecodeResult struct {
	Clip         string  `json:"clip"`
	Size         string  `json:"size"`
	Mode         string  `json:"mode"`
	AccessUnits  int     `json:"access_units"`
	Pictures     int     `json:"pictures"`
	Errors       uint64  `json:"errors"` // Decode/Flush calls that reported an error (the clip's own damage)
	Seconds      float64 `json:"seconds"`
	FramesPerSec float64 `json:"frames_per_sec"` // pictures decoded per second
	AUsPerSec    float64 `json:"aus_per_sec"`    // access units fed per second: the stream rate one core keeps up with
}

// AllocResult is what testing.Benchmark reports for one stage, per frame.
type AllocResult struct {
	Stage          string  `json:"stage"`
	AllocsPerFrame int64   `json:"allocs_per_frame"`
	BytesPerFrame  int64   `json:"bytes_per_frame"`
	NsPerFrame     int64   `json:"ns_per_frame"`
	Frames         int     `json:"frames"`
	Note           string  `json:"note,omitempty"`
	FramesPerSec   float64 `json:"frames_per_sec"`
}

// clipPackets is a clip's packets as access units, read into memory.
type clipPackets struct {
	name          string
	codec         ingest.Codec
	width, height int
	aus           []ingest.AccessUnit
}

// readClip reads every packet of a clip.
func readClip(path string) (*clipPackets, error) {
	dm, err := decode.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer dm.Close()
	c := &clipPackets{name: filepath.Base(path), codec: dm.Codec(), width: dm.Width(), height: dm.Height()}
	for {
		p, err := dm.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		c.aus = append(c.aus, ingest.AccessUnit{Params: dm.Params(), NALUs: p.NALUs, PTS: p.PTS, Keyframe: p.Keyframe})
	}
	if len(c.aus) == 0 {
		return nil, fmt.Errorf("bench: %s has no video packets", c.name)
	}
	return c, nil
}

// measureDecode decodes every clip in memory, every frame and keyframes
// only, for at least a couple of seconds per clip and mode (a fraction of a
// second in quick mode), whole passes over the clip each time.
func measureDecode(ctx context.Context, clips []string, quick bool) ([]DecodeResult, error) {
	minTime := 2 * time.Second
	if quick {
		minTime = 300 * time.Millisecond
	}
	var out []DecodeResult
	for _, path := range clips {
		c, err := readClip(path)
		if err != nil {
			return nil, err
		}
		for _, mode := range []decode.Mode{decode.EveryFrame, decode.KeyframesOnly} {
			if ctx.Err() != nil {
				return nil, errStopped
			}
			r, err := decodeRate(c, mode, minTime)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// decodeRate decodes whole passes over c in mode, at least one, until
// minTime has gone by.
func decodeRate(c *clipPackets, mode decode.Mode, minTime time.Duration) (DecodeResult, error) {
	dec, err := decode.NewDecoder(c.codec)
	if err != nil {
		return DecodeResult{}, fmt.Errorf("bench: %w", err)
	}
	defer dec.Close()
	dec.SetMode(mode)
	pictures, aus := 0, 0
	start := time.Now()
	for pass := 0; pass == 0 || time.Since(start) < minTime; pass++ {
		for _, au := range c.aus {
			ready, _ := dec.Decode(au) // errors are counted by the decoder; a clean clip has none
			if ready {
				pictures++
			}
		}
		aus += len(c.aus)
		for {
			ready, _ := dec.Flush()
			if !ready {
				break
			}
			pictures++
		}
	}
	secs := time.Since(start).Seconds()
	return DecodeResult{
		Clip: c.name, Size: fmt.Sprintf("%dx%d", c.width, c.height), Mode: mode.String(),
		AccessUnits: aus, Pictures: pictures, Errors: dec.Stats().Errors, Seconds: secs,
		FramesPerSec: float64(pictures) / secs, AUsPerSec: float64(aus) / secs,
	}, nil
}

// measureAllocs runs testing.Benchmark with ReportAllocs on the stages of
// the frame path that must not allocate in steady state: decoding an access
// unit, converting a picture to BGR (at its own size, and straight to the
// model's size keeping the picture, as the pipelines do), and
// preprocessing a frame into the model tensor (with a resize, and a frame
// already at the model's size).
func measureAllocs(spec models.InputSpec, clip string) ([]AllocResult, error) {
	c, err := readClip(clip)
	if err != nil {
		return nil, err
	}
	var out []AllocResult
	add := func(stage, note string, r testing.BenchmarkResult) {
		out = append(out, AllocResult{
			Stage: stage, AllocsPerFrame: r.AllocsPerOp(), BytesPerFrame: r.AllocedBytesPerOp(),
			NsPerFrame: r.NsPerOp(), Frames: r.N, Note: note,
			FramesPerSec: float64(r.N) / max(r.T.Seconds(), 1e-9),
		})
	}

	// Decoding: one access unit per op, looping the clip (a flush and a
	// restart at the keyframe at each wrap, as the decoder does after a gap).
	dec, err := decode.NewDecoder(c.codec)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer dec.Close()
	var benchErr error
	r := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			j := i % len(c.aus)
			if j == 0 && i > 0 {
				for {
					if ready, _ := dec.Flush(); !ready {
						break
					}
				}
			}
			if _, err := dec.Decode(c.aus[j]); err != nil && benchErr == nil {
				benchErr = err
			}
		}
	})
	if benchErr != nil {
		return nil, fmt.Errorf("bench: decode %s: %w", c.name, benchErr)
	}
	add("decode (libavcodec, every frame)", "per access unit of "+c.name, r)

	// A ready picture for conversion and preprocessing.
	for _, au := range c.aus {
		if ready, _ := dec.Decode(au); ready {
			break
		}
	}
	pre, err := analyzer.NewPreprocessor(spec)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer pre.Close()
	var full, small decode.Frame
	defer small.Close()
	w, h := dec.PictureSize()
	fit := spec.Fit(w, h)
	steps := []struct {
		stage, note string
		step        func() error
	}{
		{"convert (swscale → BGR24)", fmt.Sprintf("%dx%d, reused frame", w, h),
			func() error { return dec.Convert(&full, 0, 0) }},
		{"convert to model size (swscale → BGR24)", fmt.Sprintf("%dx%d → %dx%d, picture kept and released as a Pipeline does", w, h, fit.Width, fit.Height),
			func() error {
				err := dec.ConvertKeep(&small, fit.Width, fit.Height)
				small.Release()
				return err
			}},
		{"preprocess (GoCV letterbox → NCHW)", fmt.Sprintf("%dx%d → %dx%d, for images and frames of other sizes", w, h, spec.Width, spec.Height),
			func() error { _, _, err := pre.Tensor(&full); return err }},
		{"preprocess (model-size frame → NCHW)", fmt.Sprintf("%dx%d → %dx%d, no resize", fit.Width, fit.Height, spec.Width, spec.Height),
			func() error { _, _, err := pre.Tensor(&small); return err }},
	}
	for _, s := range steps {
		if err := s.step(); err != nil { // the frames get their content
			return nil, fmt.Errorf("bench: %s of %s: %w", s.stage, c.name, err)
		}
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.step(); err != nil && benchErr == nil {
					benchErr = err
				}
			}
		})
		if benchErr != nil {
			return nil, fmt.Errorf("bench: %s of %s: %w", s.stage, c.name, benchErr)
		}
		add(s.stage, s.note, r)
	}
	return out, nil
}
