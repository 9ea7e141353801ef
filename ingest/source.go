package ingest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
	"github.com/pion/rtp"
)

// Connection limits of a Source.
const (
	// DefaultReadTimeout is how long a camera may stay silent before the
	// Source reconnects: several keyframe intervals of a typical camera.
	DefaultReadTimeout = 10 * time.Second
	// minBackoff is the first retry delay: a camera that dropped once is
	// usually back within a second.
	minBackoff = 1 * time.Second
	// maxBackoff caps the retry delay, and is the delay after an error that
	// retrying soon cannot fix (credentials, path, codec), so that a
	// misconfigured camera costs one attempt per 30 s.
	maxBackoff = 30 * time.Second
	// healthyAfter is how long a connection must stay online for the next
	// failure to be treated as a first failure again.
	healthyAfter = 30 * time.Second
	// backoffJitter spreads retries by ±20% so cameras that failed together
	// (a switch reboot) do not reconnect in lockstep.
	backoffJitter = 0.2
	// udpProbe is how long Transport "auto" waits for the first UDP packet
	// before it switches to TCP: a camera sends several packets per frame,
	// so silence this long means a firewall or NAT drops them.
	udpProbe = 3 * time.Second
)

// The streams of a camera, for Source.Stream.
const (
	// StreamMain is the camera's main stream, the one that is recorded.
	StreamMain = "main"
	// StreamSub is the camera's secondary, lower-resolution stream, read for analysis.
	StreamSub = "sub"
)

// Source pulls the video of one camera over RTSP and calls OnAccessUnit with
// every access unit, from the first keyframe on. It reconnects on its own
// with exponential backoff, and reports its health through Status.
//
// The fields are read when Run starts and must not change while it runs.
type Source struct {
	// CameraID names the camera in logs, metrics, errors and status. Required.
	CameraID string
	// Stream is which stream of the camera this is, StreamMain or StreamSub:
	// two Sources of one camera differ by it in logs and metrics. Defaults
	// to StreamMain.
	Stream string
	// URL is the camera stream, rtsp:// or rtsps://, with the credentials
	// if any. It is a secret: it never appears in logs, errors or Status.
	URL string
	// Transport is "tcp", "udp" or "auto": UDP, then TCP when the camera
	// refuses UDP or no UDP packet arrives within 3 s (a firewall); after
	// such a fallback the Source stays on TCP until Run returns. Defaults
	// to "tcp".
	Transport string
	// ReadTimeout is how long the camera may send no RTP before the Source
	// drops the connection and reconnects. Defaults to DefaultReadTimeout.
	ReadTimeout time.Duration
	// OnAccessUnit is called with every access unit, from the goroutine that
	// reads the camera, one call at a time and in decode order. It must not
	// block (hand the unit to a bounded queue) and must treat the unit,
	// its NAL units and its Params as read-only. Nil drops the units, which
	// still count in Status and the metrics.
	OnAccessUnit func(AccessUnit)
	// Logger receives connection events with component=ingest and camera
	// keys. Nil discards them.
	Logger *slog.Logger
	// Metrics records the camera's counters and state. Nil records nothing.
	Metrics *Metrics

	status statusBox
}

// Status returns a snapshot of the source's health. It is safe to call from
// any goroutine, before, during and after Run.
func (s *Source) Status() Status {
	s.status.mu.Lock()
	defer s.status.mu.Unlock()
	now := time.Now()
	st := s.status.status
	st.FPS, st.Bitrate = s.status.fps.rates(now)
	st.Bitrate *= 8
	st.PacketLoss, _ = s.status.loss.ratio(now)
	st.Uptime, st.UptimeToday = s.status.uptime.ratios(now)
	return st
}

// sourceConfig is the parsed, validated form of the Source's fields.
type sourceConfig struct {
	url         *base.URL
	transport   *gortsplib.Transport // nil: auto; TCP after an auto fallback
	readTimeout time.Duration
	secrets     []string // substrings to strip from error texts
	log         *slog.Logger
	metrics     *cameraMetrics
}

// config validates the fields. Its errors never contain the URL.
func (s *Source) config() (*sourceConfig, error) {
	if s.CameraID == "" {
		return nil, fmt.Errorf("ingest source: %w: CameraID is empty", ErrInvalidConfig)
	}
	stream := s.Stream
	switch stream {
	case "":
		stream = StreamMain
	case StreamMain, StreamSub:
	default:
		return nil, fmt.Errorf("camera %s: %w: stream %q: expected %s or %s",
			s.CameraID, ErrInvalidConfig, s.Stream, StreamMain, StreamSub)
	}
	cfg := &sourceConfig{readTimeout: s.ReadTimeout}
	if cfg.readTimeout <= 0 {
		cfg.readTimeout = DefaultReadTimeout
	}
	switch s.Transport {
	case "", "tcp":
		t := gortsplib.TransportTCP
		cfg.transport = &t
	case "udp":
		t := gortsplib.TransportUDP
		cfg.transport = &t
	case "auto":
	default:
		return nil, fmt.Errorf("camera %s: %w: transport %q: expected tcp, udp or auto",
			s.CameraID, ErrInvalidConfig, s.Transport)
	}
	// base.ParseURL's errors quote the URL: replace them with our own.
	u, err := base.ParseURL(s.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("camera %s: %w: URL: expected rtsp://[user:password@]host[:port]/path",
			s.CameraID, ErrInvalidConfig)
	}
	cfg.url = u
	cfg.secrets = secretsOf(s.URL, u)
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.log = log.With("component", "ingest", "camera", s.CameraID, "stream", stream)
	cfg.metrics = s.Metrics.forCamera(s.CameraID, stream)
	return cfg, nil
}

// Run connects to the camera and keeps it connected until ctx ends, then
// returns nil after every goroutine it started has ended. It returns an
// error wrapping ErrInvalidConfig at once, without connecting, when a field
// is unusable. Connection failures do not end Run: they show in Status and
// the logs, and Run retries after a backoff that starts at 1 s, doubles up
// to 30 s, and restarts at 1 s after a connection stayed up for 30 s.
// Errors that retrying soon cannot fix (wrong credentials, unknown path,
// unsupported codec) put the source in StateError and wait 30 s.
func (s *Source) Run(ctx context.Context) error {
	cfg, err := s.config()
	if err != nil {
		return err
	}
	s.status.mu.Lock()
	s.status.uptime.start(time.Now())
	s.status.mu.Unlock()
	s.setState(cfg, StateConnecting)
	failures := 0
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.countReconnect(cfg)
		}
		online, err := s.connect(ctx, cfg)
		if ctx.Err() != nil {
			s.setState(cfg, StateOffline)
			return nil
		}
		if !online.IsZero() && time.Since(online) >= healthyAfter {
			failures = 0
		}
		state, delay := StateOffline, backoff(failures)
		failures++
		if permanent(err) {
			state, delay = StateError, maxBackoff
		}
		if err == nil {
			err = errors.New("connection closed")
		}
		msg := sanitize(err.Error(), cfg.secrets)
		s.fail(cfg, state, msg, time.Now().Add(delay))
		cfg.log.Warn("camera "+state.String(), "err", msg, "retry_in", delay.Round(time.Millisecond))

		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			s.setState(cfg, StateOffline)
			return nil
		case <-t.C:
		}
		s.setState(cfg, StateConnecting)
	}
}

// backoff returns the delay before the retry that follows failures
// consecutive failures (0 for the first): minBackoff doubled per failure,
// with ±backoffJitter, capped at maxBackoff.
func backoff(failures int) time.Duration {
	d := minBackoff
	for i := 0; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	f := 1 - backoffJitter + 2*backoffJitter*rand.Float64()
	return min(time.Duration(float64(d)*f), maxBackoff)
}

// permanent reports whether err is one that retrying soon cannot fix.
func permanent(err error) bool {
	return errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrStreamNotFound) ||
		errors.Is(err, ErrUnsupportedCodec) || errors.Is(err, ErrNoVideo)
}

// connect runs one connection: describe, set up, play and read until the
// connection fails, the camera goes silent or ctx ends. It returns when the
// connection went online (zero if it never did) and why it ended.
func (s *Source) connect(ctx context.Context, cfg *sourceConfig) (time.Time, error) {
	var (
		lastRTP  atomic.Int64 // UnixNano of the last RTP packet; 0 until PLAY
		silent   atomic.Bool  // the watchdog closed the client
		onlineAt atomic.Int64 // UnixNano of the first RTP packet
		switched atomic.Bool  // auto transport fell back to TCP
		received atomic.Uint64
		lost     atomic.Uint64
		done     = make(chan struct{})
		wg       sync.WaitGroup
	)
	c := &gortsplib.Client{
		Scheme:                cfg.url.Scheme,
		Host:                  cfg.url.Host,
		ReadTimeout:           cfg.readTimeout,
		Transport:             cfg.transport,
		InitialUDPReadTimeout: min(udpProbe, cfg.readTimeout/2),
		OnTransportSwitch: func(err error) {
			switched.Store(true)
			cfg.log.Info("transport switched to TCP", "reason", sanitize(err.Error(), cfg.secrets))
		},
		OnPacketsLost: func(n uint64) {
			lost.Add(n)
			if cfg.metrics != nil {
				cfg.metrics.packetsLost.Add(float64(n))
			}
		},
		// RTP that cannot be parsed shows as lost packets and, if it lasts,
		// as ErrNoData; one log line per packet would be a storm.
		OnDecodeError: func(error) {},
	}
	if err := c.Start2(); err != nil {
		return time.Time{}, fmt.Errorf("start RTSP client: %w", err)
	}

	wg.Add(1)
	go func() { // closes the client when ctx ends or the camera goes silent; checks the health
		defer wg.Done()
		tick := time.NewTicker(min(cfg.readTimeout/4, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				c.Close()
				return
			case <-done:
				return
			case now := <-tick.C:
				if last := lastRTP.Load(); last != 0 && now.Sub(time.Unix(0, last)) >= cfg.readTimeout {
					silent.Store(true)
					c.Close()
					return
				}
				s.checkHealth(cfg, now, received.Swap(0), lost.Swap(0))
			}
		}
	}()
	defer func() {
		close(done)
		wg.Wait()
		c.Close()
		if switched.Load() && cfg.transport == nil {
			t := gortsplib.TransportTCP
			cfg.transport = &t
			cfg.log.Info("UDP failed: TCP from now on")
		}
	}()

	online := func() time.Time {
		if v := onlineAt.Load(); v != 0 {
			return time.Unix(0, v)
		}
		return time.Time{}
	}

	desc, _, err := c.Describe(cfg.url)
	if err != nil {
		return time.Time{}, fmt.Errorf("describe: %w", rtspError(err, cfg.readTimeout))
	}
	track, err := findVideo(desc)
	if err != nil {
		return time.Time{}, err
	}
	if _, err := c.Setup(desc.BaseURL, track.media, 0, 0); err != nil {
		return time.Time{}, fmt.Errorf("setup: %w", rtspError(err, cfg.readTimeout))
	}

	transport := "udp"
	if cfg.transport != nil && *cfg.transport == gortsplib.TransportTCP {
		transport = "tcp"
	}
	au := &auAssembler{codec: track.codec, params: track.params}
	c.OnPacketRTP(track.media, track.format, func(pkt *rtp.Packet) {
		now := time.Now()
		lastRTP.Store(now.UnixNano())
		received.Add(1)
		if cfg.metrics != nil {
			cfg.metrics.packets.Inc()
		}
		if onlineAt.Load() == 0 {
			onlineAt.Store(now.UnixNano())
			if switched.Load() {
				transport = "tcp"
			}
			s.wentOnline(cfg, now, transport)
			cfg.log.Info("camera online", "codec", string(track.codec), "transport", transport)
		}
		pts, ok := c.PacketPTS2(track.media, pkt)
		if !ok {
			return
		}
		nalus, err := track.depacketizer.Decode(pkt)
		if err != nil {
			// Incomplete units are normal; the others are losses, counted by OnPacketsLost.
			return
		}
		capture, ok := c.PacketNTP(track.media, pkt)
		if !ok {
			capture = now
		}
		unit, ok := au.assemble(nalus, ticksToDuration(pts, track.format.ClockRate()), capture)
		if !ok {
			return
		}
		s.delivered(cfg, unit, now)
		if s.OnAccessUnit != nil {
			s.OnAccessUnit(unit)
		}
	})

	lastRTP.Store(time.Now().UnixNano()) // arm the watchdog before PLAY can hang
	if _, err := c.Play(nil); err != nil {
		return online(), fmt.Errorf("play: %w", rtspError(err, cfg.readTimeout))
	}
	err = c.Wait()
	var tcpTimeout liberrors.ErrClientTCPTimeout
	var udpTimeout liberrors.ErrClientUDPTimeout
	if silent.Load() || errors.As(err, &tcpTimeout) || errors.As(err, &udpTimeout) {
		return online(), fmt.Errorf("read: %w for %v", ErrNoData, cfg.readTimeout)
	}
	if errors.Is(err, io.EOF) {
		return online(), fmt.Errorf("read: camera closed the connection (%w)", err)
	}
	return online(), fmt.Errorf("read: %w", err)
}

// videoTrack is the media of a stream that the Source reads.
type videoTrack struct {
	codec        Codec
	media        *description.Media
	format       format.Format
	depacketizer interface {
		Decode(*rtp.Packet) ([][]byte, error)
	}
	params *StreamParams // from the SDP; nil when incomplete there
}

// findVideo picks the first H.264 or H.265 media of desc.
func findVideo(desc *description.Session) (*videoTrack, error) {
	var h264f *format.H264
	if m := desc.FindFormat(&h264f); m != nil {
		d, err := h264f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("H.264 depacketizer: %w", err)
		}
		t := &videoTrack{codec: H264, media: m, format: h264f, depacketizer: d}
		if sps, pps := h264f.SafeParams(); sps != nil && pps != nil {
			t.params = &StreamParams{Codec: H264, SPS: clone(sps), PPS: clone(pps)}
		}
		return t, nil
	}
	var h265f *format.H265
	if m := desc.FindFormat(&h265f); m != nil {
		d, err := h265f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("H.265 depacketizer: %w", err)
		}
		t := &videoTrack{codec: H265, media: m, format: h265f, depacketizer: d}
		if vps, sps, pps := h265f.SafeParams(); vps != nil && sps != nil && pps != nil {
			t.params = &StreamParams{Codec: H265, VPS: clone(vps), SPS: clone(sps), PPS: clone(pps)}
		}
		return t, nil
	}
	var codecs []string
	for _, m := range desc.Medias {
		if m.Type != description.MediaTypeVideo {
			continue
		}
		for _, f := range m.Formats {
			codecs = append(codecs, f.Codec())
		}
	}
	if len(codecs) == 0 {
		return nil, ErrNoVideo
	}
	return nil, fmt.Errorf("%w %s: only H.264 and H.265 are read", ErrUnsupportedCodec, strings.Join(codecs, ", "))
}

// auAssembler turns depacketized NAL units into AccessUnits: it tracks the
// parameter sets and holds everything back until the first keyframe.
type auAssembler struct {
	codec   Codec
	params  *StreamParams // nil until SPS and PPS (and VPS) are known
	pending StreamParams  // parameter sets seen in-band, complete or not
	started bool
}

// NAL unit types the assembler looks at.
const (
	h264NALIDR = 5
	h264NALSPS = 7
	h264NALPPS = 8

	h265NALIRAPFirst = 16 // BLA_W_LP
	h265NALIRAPLast  = 23 // RSV_IRAP_VCL23
	h265NALVPS       = 32
	h265NALSPS       = 33
	h265NALPPS       = 34
)

// assemble returns the access unit made of nalus, or false while waiting for
// parameter sets and a keyframe.
func (a *auAssembler) assemble(nalus [][]byte, pts time.Duration, capture time.Time) (AccessUnit, bool) {
	key := false
	var vps, sps, pps []byte
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		if a.codec == H265 {
			switch t := int(n[0]>>1) & 0x3f; {
			case t >= h265NALIRAPFirst && t <= h265NALIRAPLast:
				key = true
			case t == h265NALVPS:
				vps = n
			case t == h265NALSPS:
				sps = n
			case t == h265NALPPS:
				pps = n
			}
			continue
		}
		switch n[0] & 0x1f {
		case h264NALIDR:
			key = true
		case h264NALSPS:
			sps = n
		case h264NALPPS:
			pps = n
		}
	}
	if vps != nil || sps != nil || pps != nil {
		a.updateParams(vps, sps, pps)
	}
	if !a.started {
		if !key || a.params == nil {
			return AccessUnit{}, false
		}
		a.started = true
	}
	return AccessUnit{Params: a.params, NALUs: nalus, PTS: pts, Capture: capture, Keyframe: key}, true
}

// updateParams replaces a.params with a new StreamParams when an in-band
// parameter set differs from the current one. The old value is never
// modified: consumers may still hold it.
func (a *auAssembler) updateParams(vps, sps, pps []byte) {
	if a.params != nil {
		a.pending = *a.params
	}
	changed := false
	set := func(dst *[]byte, v []byte) {
		if v != nil && !bytes.Equal(*dst, v) {
			*dst = clone(v)
			changed = true
		}
	}
	set(&a.pending.VPS, vps)
	set(&a.pending.SPS, sps)
	set(&a.pending.PPS, pps)
	if !changed && a.params != nil {
		return
	}
	a.pending.Codec = a.codec
	if a.pending.SPS == nil || a.pending.PPS == nil || (a.codec == H265 && a.pending.VPS == nil) {
		return
	}
	p := a.pending
	a.params = &p
}

// delivered records one access unit in the status and metrics.
func (s *Source) delivered(cfg *sourceConfig, au AccessUnit, now time.Time) {
	n := 0
	for _, b := range au.NALUs {
		n += len(b)
	}
	s.status.mu.Lock()
	s.status.status.Frames++
	s.status.status.LastFrame = now
	s.status.fps.add(now, n)
	if s.status.firstAU.IsZero() {
		s.status.firstAU = now
	}
	s.status.mu.Unlock()
	if cfg.metrics != nil {
		cfg.metrics.accessUnits.Inc()
		cfg.metrics.bytes.Add(float64(n))
	}
}

// setState moves the source to st.
func (s *Source) setState(cfg *sourceConfig, st State) {
	s.status.mu.Lock()
	s.moveLocked(st, time.Now())
	if st == StateConnecting {
		s.status.status.NextAttempt = time.Time{}
	}
	s.status.mu.Unlock()
	cfg.metrics.setState(st)
}

// wentOnline moves the source online when a connection's first RTP packet
// arrives over transport.
func (s *Source) wentOnline(cfg *sourceConfig, now time.Time, transport string) {
	s.status.mu.Lock()
	s.moveLocked(StateOnline, now)
	s.status.status.NextAttempt = time.Time{}
	s.status.status.Transport = transport
	s.status.mu.Unlock()
	cfg.metrics.setState(StateOnline)
}

// fail moves the source to st after a failed connection.
func (s *Source) fail(cfg *sourceConfig, st State, msg string, next time.Time) {
	s.status.mu.Lock()
	s.moveLocked(st, time.Now())
	s.status.status.LastError = msg
	s.status.status.NextAttempt = next
	s.status.mu.Unlock()
	cfg.metrics.setState(st)
}

// moveLocked sets the state, keeping the uptime and the connection's health
// in step. The caller holds s.status.mu.
func (s *Source) moveLocked(st State, now time.Time) {
	b := &s.status
	b.uptime.set(now, st.up())
	if !st.up() {
		b.firstAU, b.nominal, b.flipAt = time.Time{}, 0, time.Time{}
	}
	if st != StateDegraded {
		b.status.Degraded = ""
	}
	b.status.State = st
}

// checkHealth counts the RTP packets received and lost since the last check
// and moves an online source to degraded, or a degraded one back online,
// once the rule of Status.Degraded has held for degradedAfter.
func (s *Source) checkHealth(cfg *sourceConfig, now time.Time, received, lost uint64) {
	b := &s.status
	b.mu.Lock()
	b.loss.add(now, received, lost)
	st := b.status.State
	if !st.up() {
		b.mu.Unlock()
		return
	}
	reason := b.degradedLocked(now)
	if st == StateDegraded && reason != "" {
		b.status.Degraded = reason // keep the numbers current
	}
	next := st
	if (reason != "") == (st == StateDegraded) {
		b.flipAt = time.Time{}
	} else if b.flipAt.IsZero() {
		b.flipAt = now
	} else if now.Sub(b.flipAt) >= degradedAfter {
		next = StateOnline
		if reason != "" {
			next = StateDegraded
		}
		s.moveLocked(next, now)
		b.status.Degraded = reason
		b.flipAt = time.Time{}
	}
	b.mu.Unlock()
	if next == st {
		return
	}
	cfg.metrics.setState(next)
	if next == StateDegraded {
		cfg.log.Warn("camera degraded", "reason", reason)
	} else {
		cfg.log.Info("camera no longer degraded")
	}
}

// degradedLocked returns why the connection is degraded now, or "" when it
// is not, and updates the nominal frame rate. The caller holds b.mu.
func (b *statusBox) degradedLocked(now time.Time) string {
	fps := b.fps.rate(now)
	if !b.firstAU.IsZero() && now.Sub(b.firstAU) >= fpsWindow {
		b.nominal = max(b.nominal, fps)
	}
	if b.nominal > 0 && fps < b.nominal*degradedFPSRatio {
		return fmt.Sprintf("frame rate %.1f/s, under %.0f%% of the nominal %.1f/s",
			fps, degradedFPSRatio*100, b.nominal)
	}
	if loss, n := b.loss.ratio(now); n >= minLossPackets && loss > degradedLoss {
		return fmt.Sprintf("%.1f%% of RTP packets lost over %v (more than %.0f%%)",
			loss*100, lossWindow, degradedLoss*100)
	}
	return ""
}

// countReconnect counts a connection attempt after the first.
func (s *Source) countReconnect(cfg *sourceConfig) {
	s.status.mu.Lock()
	s.status.status.Reconnects++
	s.status.mu.Unlock()
	if cfg.metrics != nil {
		cfg.metrics.reconnects.Inc()
	}
}

// rtspError maps the failures of a request to the camera to sentinels and
// clear texts: the RTSP status codes a Source branches on, an answer that
// is not RTSP, no answer, and a connection closed instead of an answer.
func rtspError(err error, timeout time.Duration) error {
	var (
		bad     liberrors.ErrClientBadStatusCode
		timeOut liberrors.ErrClientRequestTimedOut
		netErr  net.Error
	)
	switch {
	case errors.As(err, &timeOut):
		return fmt.Errorf("no answer within %v (%w)", timeout, err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("the camera closed the connection instead of answering (%w)", err)
	case errors.As(err, &netErr):
		return err // refused, unreachable: the text says it
	case notRTSP(err):
		return fmt.Errorf("%w (%w)", ErrNotRTSP, err)
	case !errors.As(err, &bad):
		return err
	}
	switch bad.Code {
	case base.StatusUnauthorized, base.StatusForbidden:
		return fmt.Errorf("%w (RTSP %d %s)", ErrUnauthorized, bad.Code, bad.Message)
	case base.StatusNotFound:
		return fmt.Errorf("%w (RTSP %d %s)", ErrStreamNotFound, bad.Code, bad.Message)
	}
	return err
}

// notRTSP reports whether err says that the answer to a request was not
// RTSP. gortsplib skips bytes that start no RTSP message, and reports an
// RTP frame where an answer was due as ErrClientUnexpectedFrame, and a
// message it cannot parse with an error of package base, not liberrors.
func notRTSP(err error) bool {
	var (
		frame  liberrors.ErrClientUnexpectedFrame
		verify *tls.CertificateVerificationError
		alert  tls.AlertError
	)
	if errors.As(err, &frame) {
		return true
	}
	if errors.As(err, &verify) || errors.As(err, &alert) {
		return false
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.HasSuffix(reflect.TypeOf(e).PkgPath(), "/liberrors") {
			return false
		}
	}
	return true
}

// ticksToDuration converts a timestamp in units of clockRate to a Duration
// without overflowing for long-running streams.
func ticksToDuration(ticks int64, clockRate int) time.Duration {
	cr := int64(clockRate)
	return time.Duration(ticks/cr)*time.Second + time.Duration(ticks%cr)*time.Second/time.Duration(cr)
}

// secretsOf lists the parts of a camera URL that must not appear in text
// shown to people: the URL itself and its user information.
func secretsOf(raw string, u *base.URL) []string {
	secrets := []string{raw}
	if u.User != nil {
		secrets = append(secrets, u.User.String())
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p, url.QueryEscape(p))
		}
	}
	return secrets
}

// sanitize removes the secrets from text.
func sanitize(text string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 3 {
			text = strings.ReplaceAll(text, sec, "***")
		}
	}
	return text
}

// RedactURL returns rawURL without its user information, for showing which
// host a camera is at. It returns "(invalid URL)" when rawURL does not parse,
// since the parse error would quote it.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	return u.String()
}

// clone copies b.
func clone(b []byte) []byte {
	return append([]byte(nil), b...)
}
