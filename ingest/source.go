package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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
)

// Source pulls the video of one camera over RTSP and calls OnAccessUnit with
// every access unit, from the first keyframe on. It reconnects on its own
// with exponential backoff, and reports its health through Status.
//
// The fields are read when Run starts and must not change while it runs.
type Source struct {
	// CameraID names the camera in logs, metrics, errors and status. Required.
	CameraID string
	// URL is the camera stream, rtsp:// or rtsps://, with the credentials
	// if any. It is a secret: it never appears in logs, errors or Status.
	URL string
	// Transport is "tcp", "udp" or "auto" (UDP, then TCP if no UDP packet
	// arrives). Defaults to "tcp".
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
	st := s.status.status
	st.FPS = s.status.fps.rate(time.Now())
	return st
}

// sourceConfig is the parsed, validated form of the Source's fields.
type sourceConfig struct {
	url         *base.URL
	transport   *gortsplib.Transport
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
	cfg.log = log.With("component", "ingest", "camera", s.CameraID)
	cfg.metrics = s.Metrics.forCamera(s.CameraID)
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
	c := &gortsplib.Client{
		Scheme:      cfg.url.Scheme,
		Host:        cfg.url.Host,
		ReadTimeout: cfg.readTimeout,
		Transport:   cfg.transport,
		OnTransportSwitch: func(err error) {
			cfg.log.Info("transport switched", "reason", sanitize(err.Error(), cfg.secrets))
		},
		OnPacketsLost: func(n uint64) {
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

	var (
		lastRTP  atomic.Int64 // UnixNano of the last RTP packet; 0 until PLAY
		silent   atomic.Bool  // the watchdog closed the client
		onlineAt atomic.Int64 // UnixNano of the first RTP packet
		done     = make(chan struct{})
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() { // closes the client when ctx ends or the camera goes silent
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
			}
		}
	}()
	defer func() {
		close(done)
		wg.Wait()
		c.Close()
	}()

	online := func() time.Time {
		if v := onlineAt.Load(); v != 0 {
			return time.Unix(0, v)
		}
		return time.Time{}
	}

	desc, _, err := c.Describe(cfg.url)
	if err != nil {
		return time.Time{}, fmt.Errorf("describe: %w", rtspError(err))
	}
	track, err := findVideo(desc)
	if err != nil {
		return time.Time{}, err
	}
	if _, err := c.Setup(desc.BaseURL, track.media, 0, 0); err != nil {
		return time.Time{}, fmt.Errorf("setup: %w", rtspError(err))
	}

	au := &auAssembler{codec: track.codec, params: track.params}
	c.OnPacketRTP(track.media, track.format, func(pkt *rtp.Packet) {
		now := time.Now()
		lastRTP.Store(now.UnixNano())
		if onlineAt.Load() == 0 {
			onlineAt.Store(now.UnixNano())
			s.setState(cfg, StateOnline)
			cfg.log.Info("camera online", "codec", string(track.codec))
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
		return online(), fmt.Errorf("play: %w", rtspError(err))
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
	s.status.mu.Lock()
	s.status.status.Frames++
	s.status.status.LastFrame = now
	s.status.fps.add(now)
	s.status.mu.Unlock()
	if cfg.metrics != nil {
		n := 0
		for _, b := range au.NALUs {
			n += len(b)
		}
		cfg.metrics.accessUnits.Inc()
		cfg.metrics.bytes.Add(float64(n))
	}
}

// setState moves the source to st.
func (s *Source) setState(cfg *sourceConfig, st State) {
	s.status.mu.Lock()
	s.status.status.State = st
	if st == StateConnecting || st == StateOnline {
		s.status.status.NextAttempt = time.Time{}
	}
	s.status.mu.Unlock()
	cfg.metrics.setState(st)
}

// fail moves the source to st after a failed connection.
func (s *Source) fail(cfg *sourceConfig, st State, msg string, next time.Time) {
	s.status.mu.Lock()
	s.status.status.State = st
	s.status.status.LastError = msg
	s.status.status.NextAttempt = next
	s.status.mu.Unlock()
	cfg.metrics.setState(st)
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

// rtspError maps the RTSP status codes a Source branches on to sentinels.
func rtspError(err error) error {
	var bad liberrors.ErrClientBadStatusCode
	if !errors.As(err, &bad) {
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
