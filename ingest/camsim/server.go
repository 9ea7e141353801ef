package camsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"

	"github.com/matthan/matthan/ingest/decode"
)

// DefaultListen is the address a Server listens on when Listen is empty:
// the usual RTSP alternative port, on loopback only.
const DefaultListen = "127.0.0.1:8554"

// Server streams video files over RTSP in a loop, like a set of cameras.
// A Server runs once: to simulate a camera coming back, start a new Server
// on the same Listen address.
type Server struct {
	// Listen is the RTSP (TCP) address, host:port. Port 0 picks a free port;
	// Addr tells which. Defaults to DefaultListen.
	Listen string
	// UDPRTPAddress is the host:port, with an even port, where clients that
	// ask for the UDP transport get RTP; RTCP uses the next port. Empty
	// serves TCP only.
	UDPRTPAddress string
	// Files are the video files to stream, H.264 or H.265, one stream each.
	Files []string
	// User and Password, when User is set, are the credentials readers must
	// give (basic or digest authentication). Empty: no authentication.
	User, Password string
	// Logger receives start, connection and error events with the
	// component=camsim key. Nil discards them.
	Logger *slog.Logger

	mu      sync.Mutex
	ran     bool
	ready   chan struct{} // closed once the server accepts connections
	addr    string
	urls    []string
	streams map[string]*fileStream
}

// readyChan returns the channel closed when the server is ready.
func (s *Server) readyChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready == nil {
		s.ready = make(chan struct{})
	}
	return s.ready
}

// Ready returns a channel that is closed once Run accepts connections. If
// Run fails before that, the channel stays open: wait on Run's result too.
func (s *Server) Ready() <-chan struct{} {
	return s.readyChan()
}

// Addr returns the RTSP address the server listens on, host:port, once
// Ready is closed; "" before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URLs returns the URL of every stream, in the order of Files, once Ready is
// closed; nil before.
func (s *Server) URLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.urls...)
}

// Pause stops sending the stream name without closing its readers'
// connections, as a camera whose encoder hangs. Resume restarts it.
func (s *Server) Pause(name string) error {
	fs, err := s.stream(name)
	if err != nil {
		return err
	}
	fs.pause()
	return nil
}

// Resume restarts a paused stream: it carries on from where it stopped, its
// RTP timestamps continuing as if it had never paused.
func (s *Server) Resume(name string) error {
	fs, err := s.stream(name)
	if err != nil {
		return err
	}
	fs.resume()
	return nil
}

// stream returns the running stream called name.
func (s *Server) stream(name string) (*fileStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams == nil {
		return nil, fmt.Errorf("stream %q: %w", name, ErrNotRunning)
	}
	fs, ok := s.streams[name]
	if !ok {
		return nil, fmt.Errorf("stream %q: %w", name, ErrUnknownStream)
	}
	return fs, nil
}

// StreamName returns the stream name of a file: its base name up to the
// first dot.
func StreamName(path string) string {
	name := filepath.Base(path)
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return name
}

// Run opens every file, refusing codecs other than H.264 and H.265, serves
// them until ctx ends, and returns after closing every connection and
// goroutine it started. It returns nil when ctx ended, or the error that
// stopped it (a file that cannot be opened or read, an address in use).
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ran := s.ran
	s.ran = true
	s.mu.Unlock()
	if ran {
		return errors.New("this server already ran: start a new Server")
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "camsim")
	listen := s.Listen
	if listen == "" {
		listen = DefaultListen
	}

	files, err := openFiles(s.Files)
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range files {
			f.dmx.Close()
		}
	}()

	h := &handler{user: s.User, password: s.Password, log: log}
	var addr string
	srv := &gortsplib.Server{
		Handler:     h,
		RTSPAddress: listen,
		Listen: func(network, address string) (net.Listener, error) {
			l, err := net.Listen(network, address)
			if err == nil {
				addr = l.Addr().String()
			}
			return l, err
		},
	}
	if s.UDPRTPAddress != "" {
		host, port, err := splitPort(s.UDPRTPAddress)
		if err != nil {
			return fmt.Errorf("UDP RTP address: %w", err)
		}
		srv.UDPRTPAddress = net.JoinHostPort(host, fmt.Sprint(port))
		srv.UDPRTCPAddress = net.JoinHostPort(host, fmt.Sprint(port+1))
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("serve on %s: %w", listen, err)
	}

	streams := make(map[string]*fileStream, len(files))
	urls := make([]string, 0, len(files))
	host := urlHost(addr)
	for _, f := range files {
		if err := f.initialize(srv); err != nil {
			for _, g := range streams {
				g.stream.Close()
			}
			srv.Close()
			return err
		}
		streams[f.name] = f
		urls = append(urls, "rtsp://"+host+"/"+f.name)
	}
	h.setStreams(streams)

	s.mu.Lock()
	s.addr, s.urls, s.streams = addr, urls, streams
	s.mu.Unlock()
	close(s.readyChan())
	for i, f := range files {
		log.Info("serving", "url", urls[i], "file", f.path, "codec", string(f.dmx.Codec()),
			"size", fmt.Sprintf("%dx%d", f.dmx.Width(), f.dmx.Height()), "fps", math.Round(f.dmx.FrameRate()*100)/100)
	}

	playCtx, stop := context.WithCancel(ctx)
	errc := make(chan error, len(files)+1)
	var wg sync.WaitGroup
	for _, f := range files {
		wg.Go(func() {
			if err := f.play(playCtx, log); err != nil {
				errc <- err
			}
		})
	}
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		if err := srv.Wait(); err != nil && ctx.Err() == nil {
			errc <- fmt.Errorf("server: %w", err)
		}
	}()

	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
	}
	stop()
	wg.Wait()
	s.mu.Lock()
	s.streams = nil
	s.mu.Unlock()
	h.setStreams(nil)
	for _, f := range files {
		f.stream.Close()
	}
	srv.Close()
	<-waited
	log.Info("stopped")
	return err
}

// openFiles opens every file's demuxer, or none.
func openFiles(paths []string) ([]*fileStream, error) {
	if len(paths) == 0 {
		return nil, ErrNoFiles
	}
	var files []*fileStream
	fail := func(err error) ([]*fileStream, error) {
		for _, f := range files {
			f.dmx.Close()
		}
		return nil, err
	}
	seen := make(map[string]string)
	for _, p := range paths {
		name := StreamName(p)
		if other, ok := seen[name]; ok {
			return fail(fmt.Errorf("%w: %s and %s are both %q", ErrDuplicateName, other, p, name))
		}
		seen[name] = p
		dmx, err := decode.OpenFile(p)
		if err != nil {
			if errors.Is(err, decode.ErrUnsupportedCodec) {
				// err names the codec and says that only H.264 and H.265 are streamed.
				return fail(fmt.Errorf("%w (`make deps` makes an H.264 copy of the sample footage: %s)",
					err, h264Copy(p)))
			}
			return fail(err)
		}
		files = append(files, &fileStream{path: p, name: name, dmx: dmx})
	}
	return files, nil
}

// h264Copy returns the name `make deps` gives the H.264 copy of a file.
func h264Copy(path string) string {
	base := filepath.Base(path)
	return StreamName(base) + ".h264" + strings.TrimPrefix(base, StreamName(base))
}

// splitPort splits host:port and checks that port is even, as RTP wants.
func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	var port int
	if _, err := fmt.Sscan(p, &port); err != nil || port <= 0 || port%2 != 0 || port > 65534 {
		return "", 0, fmt.Errorf("port %q: expected an even number from 2 to 65534", p)
	}
	return host, port, nil
}

// urlHost returns the host:port readers should use for a listen address:
// loopback when the server listens on every interface.
func urlHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// handler answers RTSP requests for the server's streams.
type handler struct {
	user, password string
	log            *slog.Logger

	mu      sync.RWMutex
	streams map[string]*fileStream
}

// setStreams publishes the streams to readers; nil hides them.
func (h *handler) setStreams(m map[string]*fileStream) {
	h.mu.Lock()
	h.streams = m
	h.mu.Unlock()
}

// lookup authenticates req and finds the stream at path.
func (h *handler) lookup(conn *gortsplib.ServerConn, req *base.Request, path string) (*base.Response, *gortsplib.ServerStream, error) {
	if h.user != "" && !conn.VerifyCredentials(req, h.user, h.password) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, nil, liberrors.ErrServerAuth{}
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	fs, ok := h.streams[strings.Trim(path, "/")]
	if !ok {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, fs.stream, nil
}

// OnConnOpen logs a new connection.
func (h *handler) OnConnOpen(ctx *gortsplib.ServerHandlerOnConnOpenCtx) {
	h.log.Debug("connection opened", "remote", ctx.Conn.NetConn().RemoteAddr().String())
}

// OnConnClose logs a closed connection.
func (h *handler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	h.log.Debug("connection closed", "remote", ctx.Conn.NetConn().RemoteAddr().String(), "err", ctx.Error)
}

// OnDescribe serves the SDP of a stream.
func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Conn, ctx.Request, ctx.Path)
}

// OnSetup attaches a reader to a stream.
func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Conn, ctx.Request, ctx.Path)
}

// OnPlay starts sending to a reader.
func (h *handler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.log.Debug("play", "stream", strings.Trim(ctx.Path, "/"), "remote", ctx.Conn.NetConn().RemoteAddr().String())
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnPacketsLost keeps gortsplib from logging on its own.
func (h *handler) OnPacketsLost(ctx *gortsplib.ServerHandlerOnPacketsLostCtx) {
	h.log.Debug("RTP packets lost", "lost", ctx.Lost)
}

// OnDecodeError keeps gortsplib from logging on its own.
func (h *handler) OnDecodeError(ctx *gortsplib.ServerHandlerOnDecodeErrorCtx) {
	h.log.Debug("decode error", "err", ctx.Error)
}

// OnStreamWriteError keeps gortsplib from logging on its own.
func (h *handler) OnStreamWriteError(ctx *gortsplib.ServerHandlerOnStreamWriteErrorCtx) {
	h.log.Debug("write error", "err", ctx.Error)
}
