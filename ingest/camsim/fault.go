package camsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
)

// pictureMode is what a stream sends: its file, or a fault.
type pictureMode int

const (
	modeNormal pictureMode = iota // the file, in a loop
	modeFreeze                    // the last keyframe again and again
	modeBlack                     // a black picture
)

// String names the mode in logs.
func (m pictureMode) String() string {
	switch m {
	case modeFreeze:
		return "frozen"
	case modeBlack:
		return "black"
	}
	return "normal"
}

// blackTimeout bounds the ffmpeg run that encodes a black clip: a second of
// video at the stream's size takes a fraction of a second.
const blackTimeout = 30 * time.Second

// stillClip is a short clip held in memory: one keyframe, then pictures
// that refer to it, sent in a loop.
type stillClip struct {
	params *ingest.StreamParams
	pkts   []decode.Packet
}

// Freeze makes the stream name keep sending the last keyframe it sent, one
// copy per frame with increasing timestamps, as a camera whose encoder input
// is stuck on one picture: the stream stays alive and every picture decodes
// to the same image. Normal ends it.
func (s *Server) Freeze(name string) error {
	fs, err := s.stream(name)
	if err != nil {
		return err
	}
	fs.setMode(modeFreeze, nil)
	return nil
}

// Black makes the stream name send an all-black picture of its size and
// frame rate, as a camera whose lens is covered. The black clip is encoded
// with the ffmpeg command (libx264 or libx265) on the first call for the
// stream, so that call takes a fraction of a second; its parameter sets
// differ from the file's and are sent in-band before each keyframe, as a
// camera does when its encoder settings change. Normal ends it.
func (s *Server) Black(name string) error {
	fs, err := s.stream(name)
	if err != nil {
		return err
	}
	fs.mu.Lock()
	black := fs.black
	fs.mu.Unlock()
	if black == nil {
		ctx, cancel := context.WithTimeout(context.Background(), blackTimeout)
		defer cancel()
		if black, err = encodeBlack(ctx, fs.dmx.Codec(), fs.dmx.Width(), fs.dmx.Height(), fs.dmx.FrameRate()); err != nil {
			return fmt.Errorf("stream %q: %w", name, err)
		}
	}
	fs.setMode(modeBlack, black)
	return nil
}

// Normal makes the stream name send its file again after Freeze or Black:
// the file restarts at its beginning (a keyframe), its timestamps going on
// from the last picture sent. A paused stream stays paused.
func (s *Server) Normal(name string) error {
	fs, err := s.stream(name)
	if err != nil {
		return err
	}
	fs.setMode(modeNormal, nil)
	return nil
}

// setMode switches what the sender sends from its next frame; black, when
// not nil, is kept as the stream's black clip.
func (f *fileStream) setMode(m pictureMode, black *stillClip) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = m
	if black != nil {
		f.black = black
	}
}

// currentMode returns the mode the sender must be in, with the black clip.
func (f *fileStream) currentMode() (pictureMode, *stillClip) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mode, f.black
}

// stillFrame returns the NAL units of the next picture of a fault, or nil
// when the file must be sent (normal mode, or frozen before any keyframe
// was sent). *next is the position in the black clip.
func (f *fileStream) stillFrame(m pictureMode, lastKey [][]byte, black *stillClip, next *int) [][]byte {
	switch m {
	case modeFreeze:
		return lastKey
	case modeBlack:
		if black == nil || len(black.pkts) == 0 {
			return nil
		}
		if *next >= len(black.pkts) {
			*next = 0
		}
		pkt := black.pkts[*next]
		*next++
		if pkt.Keyframe {
			return withParams(f.dmx.Codec(), black.params, pkt.NALUs)
		}
		return pkt.NALUs
	}
	return nil
}

// encodeBlack encodes one second of black picture of w×h at fps with the
// ffmpeg command, without B-frames and with a single keyframe at its start,
// and returns its packets.
func encodeBlack(ctx context.Context, codec ingest.Codec, w, h int, fps float64) (*stillClip, error) {
	if fps <= 0 || math.IsInf(fps, 0) || math.IsNaN(fps) {
		fps = float64(time.Second / fallbackFrameDuration)
	}
	frames := max(1, int(math.Round(fps)))
	var enc []string
	switch codec {
	case ingest.H264:
		enc = []string{"-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", fmt.Sprint(frames),
			"-sc_threshold", "0"}
	case ingest.H265:
		enc = []string{"-c:v", "libx265", "-preset", "veryfast",
			"-x265-params", fmt.Sprintf("log-level=error:bframes=0:keyint=%d:scenecut=0", frames)}
	default:
		return nil, fmt.Errorf("black picture: codec %s: %w", codec, decode.ErrUnsupportedCodec)
	}
	dir, err := os.MkdirTemp("", "camsim-black-")
	if err != nil {
		return nil, fmt.Errorf("black picture: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "black.mp4")
	args := []string{"-v", "error", "-nostdin", "-f", "lavfi",
		"-i", fmt.Sprintf("color=c=black:s=%dx%d:r=%.3f", w, h, fps),
		"-frames:v", fmt.Sprint(frames), "-pix_fmt", "yuv420p"}
	args = append(append(args, enc...), "-an", out)
	if msg, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("black picture: ffmpeg: %w: %s", err, strings.TrimSpace(string(msg)))
	}
	dmx, err := decode.OpenFile(out)
	if err != nil {
		return nil, fmt.Errorf("black picture: %w", err)
	}
	defer dmx.Close()
	clip := &stillClip{params: dmx.Params()}
	for {
		pkt, err := dmx.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("black picture: %w", err)
		}
		clip.pkts = append(clip.pkts, pkt)
	}
	if len(clip.pkts) == 0 || !clip.pkts[0].Keyframe {
		return nil, errors.New("black picture: ffmpeg made no keyframe")
	}
	return clip, nil
}
