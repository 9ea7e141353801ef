package camsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/pion/rtp"

	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
)

// Pacing limits.
const (
	// clockRate is the RTP clock of H.264 and H.265 (RFC 6184, RFC 7798).
	clockRate = 90000
	// payloadType is the dynamic RTP payload type of the video.
	payloadType = 96
	// maxLag is how far the sender may fall behind the wall clock (a starved
	// CPU) before it gives up catching up and carries on from now, instead
	// of sending a burst of late frames no camera would send.
	maxLag = time.Second
	// fallbackFrameDuration spaces the loops of a file whose frame rate is unknown.
	fallbackFrameDuration = 40 * time.Millisecond
)

// fileStream plays one file into one ServerStream.
type fileStream struct {
	path string
	name string
	dmx  *decode.Demuxer

	stream *gortsplib.ServerStream
	media  *description.Media
	encode func([][]byte) ([]*rtp.Packet, error)

	mu     sync.Mutex
	paused chan struct{} // non-nil while paused; closed by resume
	mode   pictureMode   // what the sender sends
	black  *stillClip    // the black clip, encoded on the first Black
}

// initialize creates the RTSP stream of the file on srv.
func (f *fileStream) initialize(srv *gortsplib.Server) error {
	p := f.dmx.Params()
	if p == nil {
		p = &ingest.StreamParams{Codec: f.dmx.Codec()}
	}
	var forma format.Format
	switch f.dmx.Codec() {
	case ingest.H264:
		h := &format.H264{PayloadTyp: payloadType, PacketizationMode: 1, SPS: p.SPS, PPS: p.PPS}
		enc, err := h.CreateEncoder()
		if err != nil {
			return fmt.Errorf("%s: H.264 packetizer: %w", f.path, err)
		}
		forma, f.encode = h, enc.Encode
	case ingest.H265:
		h := &format.H265{PayloadTyp: payloadType, VPS: p.VPS, SPS: p.SPS, PPS: p.PPS}
		enc, err := h.CreateEncoder()
		if err != nil {
			return fmt.Errorf("%s: H.265 packetizer: %w", f.path, err)
		}
		forma, f.encode = h, enc.Encode
	default:
		return fmt.Errorf("%s: codec %s: %w", f.path, f.dmx.Codec(), decode.ErrUnsupportedCodec)
	}
	f.media = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}
	f.stream = &gortsplib.ServerStream{
		Server: srv,
		Desc:   &description.Session{Title: f.name, Medias: []*description.Media{f.media}},
	}
	if err := f.stream.Initialize(); err != nil {
		return fmt.Errorf("%s: stream: %w", f.path, err)
	}
	return nil
}

// pause stops the sender at its next frame.
func (f *fileStream) pause() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused == nil {
		f.paused = make(chan struct{})
	}
}

// resume restarts a paused sender.
func (f *fileStream) resume() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused != nil {
		close(f.paused)
		f.paused = nil
	}
}

// pausedChan returns the channel that resume closes, or nil when not paused.
func (f *fileStream) pausedChan() chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.paused
}

// clock maps stream time to the wall clock.
type clock struct {
	start time.Time // wall-clock time of stream time 0
	timer *time.Timer
}

// waitUntil sleeps until stream time at is due, or while f is paused. A pause
// shifts the clock so the stream carries on at the same pace afterwards.
func (c *clock) waitUntil(ctx context.Context, f *fileStream, at time.Duration) error {
	for {
		if ch := f.pausedChan(); ch != nil {
			since := time.Now()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ch:
			}
			c.start = c.start.Add(time.Since(since))
			continue
		}
		d := time.Until(c.start.Add(at))
		if d <= 0 {
			if d < -maxLag {
				c.start = c.start.Add(-d)
			}
			return nil
		}
		c.timer.Reset(d)
		select {
		case <-ctx.Done():
			c.timer.Stop()
			return ctx.Err()
		case <-c.timer.C:
		}
	}
}

// play sends the file in a loop until ctx ends. It returns nil when ctx
// ended, or the error that stopped it.
//
// Stream time starts at 0 with the first packet's DTS. Each loop starts one
// frame after the last DTS and the last PTS sent, so both keep increasing;
// so do the frames sent while the picture is frozen or black, one frame
// apart, and the loop that restarts the file when the stream goes back to
// normal. RTP timestamps are a random origin plus the PTS in stream time.
// The RTCP sender reports map them to the capture time, start + PTS minus
// the file's largest PTS-DTS (the reorder delay of B-frames): a picture is
// sent at start + DTS, never before it was captured.
func (f *fileStream) play(ctx context.Context, log *slog.Logger) error {
	frame := fallbackFrameDuration
	if fps := f.dmx.FrameRate(); fps > 0 {
		frame = time.Duration(float64(time.Second) / fps)
	}
	reorder, lead, err := f.scan()
	if err != nil {
		return err
	}
	rtpOrigin := rand.Uint32()
	c := &clock{start: time.Now(), timer: time.NewTimer(time.Hour)}
	c.timer.Stop()

	var (
		loopStart        time.Duration // stream time of this loop's first DTS
		first            = true        // the next packet is the first of a loop
		loopPackets      int           // packets read in this loop
		d0               time.Duration // file DTS of the loop's first packet
		sent             bool          // a frame was sent
		sentDTS, sentPTS time.Duration // last DTS and largest PTS sent, in stream time
		lastKey          [][]byte      // the last keyframe sent from the file, with its parameter sets
		blackAt          int           // next packet of the black clip
		mode             = modeNormal
		params           = f.dmx.Params()
		codec            = f.dmx.Codec()
		loops            int
	)
	send := func(dts, pts time.Duration, nalus [][]byte) (bool, error) {
		if err := c.waitUntil(ctx, f, dts); err != nil {
			return false, nil
		}
		pkts, err := f.encode(nalus)
		if err != nil {
			return false, fmt.Errorf("%s: packetize: %w", f.path, err)
		}
		ts := rtpOrigin + uint32(durationToTicks(pts))
		ntp := c.start.Add(pts - reorder)
		for _, p := range pkts {
			p.Timestamp = ts
			if err := f.stream.WritePacketRTPWithNTP(f.media, p, ntp); err != nil {
				return false, fmt.Errorf("%s: write RTP: %w", f.path, err)
			}
		}
		sentDTS, sentPTS, sent = dts, max(sentPTS, pts), true
		return true, nil
	}
	for {
		m, black := f.currentMode()
		if m != mode {
			log.Info("picture", "stream", f.name, "mode", m.String())
			if m == modeNormal && mode != modeNormal {
				// Back to the live picture: restart the file, whose
				// first packet is a keyframe.
				if err := f.dmx.Rewind(); err != nil {
					return err
				}
				first, loopPackets = true, 0
			}
			blackAt = 0
			mode = m
		}

		if still := f.stillFrame(mode, lastKey, black, &blackAt); still != nil {
			// A fault: one more picture of the still, one frame on.
			dts := time.Duration(0)
			if sent {
				dts = max(sentDTS, sentPTS) + frame
			}
			if ok, err := send(dts, dts, still); !ok {
				return err
			}
			continue
		}

		pkt, err := f.dmx.Read()
		if errors.Is(err, io.EOF) {
			if loopPackets == 0 {
				return fmt.Errorf("%s: no video packets", f.path)
			}
			if err := f.dmx.Rewind(); err != nil {
				return err
			}
			loops++
			log.Debug("loop", "stream", f.name, "loops", loops)
			first, loopPackets = true, 0
			continue
		}
		if err != nil {
			return err
		}
		loopPackets++
		if first {
			d0, first = pkt.DTS, false
			if sent {
				loopStart = max(sentDTS+frame, sentPTS+frame-lead)
			}
		}
		dts := loopStart + pkt.DTS - d0
		pts := max(loopStart+pkt.PTS-d0, dts)
		nalus := pkt.NALUs
		if pkt.Keyframe {
			nalus = withParams(codec, params, nalus)
			lastKey = nalus
		}
		if ok, err := send(dts, pts, nalus); !ok {
			return err
		}
	}
}

// scan reads the file through once and returns its largest PTS-DTS (the
// reorder delay) and the distance from its first DTS to its smallest PTS.
func (f *fileStream) scan() (reorder, lead time.Duration, err error) {
	var d0, minPTS time.Duration
	n := 0
	for {
		pkt, err := f.dmx.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if n == 0 {
			d0, minPTS = pkt.DTS, pkt.PTS
		}
		n++
		minPTS = min(minPTS, pkt.PTS)
		reorder = max(reorder, pkt.PTS-pkt.DTS)
	}
	if err := f.dmx.Rewind(); err != nil {
		return 0, 0, err
	}
	return reorder, minPTS - d0, nil
}

// NAL unit types withParams looks at.
const (
	h264NALSPS = 7
	h264NALAUD = 9
	h265NALSPS = 33
	h265NALAUD = 35
)

// withParams returns the access unit with the parameter sets in front (after
// an access unit delimiter), as cameras send them before every keyframe so
// that a reader can start at any keyframe. An access unit that already
// carries an SPS is returned as is.
func withParams(codec ingest.Codec, p *ingest.StreamParams, nalus [][]byte) [][]byte {
	typ := func(n []byte) int {
		if len(n) == 0 {
			return -1
		}
		if codec == ingest.H265 {
			return int(n[0]>>1) & 0x3f
		}
		return int(n[0]) & 0x1f
	}
	sps, aud := h264NALSPS, h264NALAUD
	if codec == ingest.H265 {
		sps, aud = h265NALSPS, h265NALAUD
	}
	for _, n := range nalus {
		if typ(n) == sps {
			return nalus
		}
	}
	if p == nil {
		return nalus
	}
	var ps [][]byte
	for _, b := range [][]byte{p.VPS, p.SPS, p.PPS} {
		if len(b) > 0 {
			ps = append(ps, b)
		}
	}
	if len(ps) == 0 {
		return nalus
	}
	at := 0
	if len(nalus) > 0 && typ(nalus[0]) == aud {
		at = 1
	}
	out := make([][]byte, 0, len(nalus)+len(ps))
	out = append(out, nalus[:at]...)
	out = append(out, ps...)
	return append(out, nalus[at:]...)
}

// durationToTicks converts d to RTP clock ticks without overflowing.
func durationToTicks(d time.Duration) int64 {
	return int64(d/time.Second)*clockRate + int64(d%time.Second)*clockRate/int64(time.Second)
}
