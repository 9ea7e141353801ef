package ingest_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// rtspProxy relays RTSP over TCP between its clients and a server, message by
// message, so that a test can see and rewrite requests and responses and
// drop interleaved RTP, the way a firewall, a camera with other settings or
// a lossy network would.
type rtspProxy struct {
	// Target is the server's host:port.
	Target string
	// Request, when set, rewrites the start line and headers of each request.
	Request func(head string) string
	// Response, when set, rewrites the start line and headers of each response.
	Response func(head string) string
	// Drop, when set, tells whether to drop an interleaved frame on its way
	// from the server, given its channel.
	Drop func(channel byte) bool

	l     net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	heads []string // every request head, as the client sent it
}

// startProxy serves p on a free loopback port until the test ends and
// returns its address.
func startProxy(t testing.TB, p *rtspProxy) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.l, p.conns = l, map[net.Conn]struct{}{}
	p.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(c) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		p.dropConns()
		p.mu.Lock()
		p.conns = nil // relays accepted meanwhile close at once
		p.mu.Unlock()
		p.wg.Wait()
	})
	return l.Addr().String()
}

// serve relays one client connection.
func (p *rtspProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.Target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		relayRTSP(server, bufio.NewReader(client), func(h string) string {
			p.mu.Lock()
			p.heads = append(p.heads, h)
			p.mu.Unlock()
			if p.Request != nil {
				h = p.Request(h)
			}
			return h
		}, nil)
		client.Close()
		server.Close()
	})
	relayRTSP(client, bufio.NewReader(server), p.Response, p.Drop)
	client.Close()
	server.Close()
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// track registers the connections of a relay, or closes them if the proxy
// is closing.
func (p *rtspProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// dropConns closes every relayed connection, as a network outage would.
func (p *rtspProxy) dropConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// requests returns the heads of the requests relayed so far.
func (p *rtspProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.heads...)
}

// relayRTSP copies RTSP messages and interleaved frames from src to dst until
// either fails, passing each message head through edit and each frame's
// channel through drop (both optional).
func relayRTSP(dst io.Writer, src *bufio.Reader, edit func(string) string, drop func(byte) bool) {
	for {
		first, err := src.Peek(1)
		if err != nil {
			return
		}
		if first[0] == '$' {
			var h [4]byte
			if _, err := io.ReadFull(src, h[:]); err != nil {
				return
			}
			frame := make([]byte, 4+int(binary.BigEndian.Uint16(h[2:])))
			copy(frame, h[:])
			if _, err := io.ReadFull(src, frame[4:]); err != nil {
				return
			}
			if drop != nil && drop(h[1]) {
				continue
			}
			if _, err := dst.Write(frame); err != nil {
				return
			}
			continue
		}
		var head strings.Builder
		for {
			line, err := src.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" || line == "\n" {
				break
			}
		}
		body := make([]byte, contentLength(head.String()))
		if _, err := io.ReadFull(src, body); err != nil {
			return
		}
		h := head.String()
		if edit != nil {
			h = edit(h)
		}
		if _, err := io.WriteString(dst, h); err != nil {
			return
		}
		if _, err := dst.Write(body); err != nil {
			return
		}
	}
}

// contentLength returns the Content-Length of a message head, 0 without one.
func contentLength(head string) int {
	for line := range strings.SplitSeq(head, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, _ := strconv.Atoi(strings.TrimSpace(value))
			return n
		}
	}
	return 0
}

// withoutHeaderLines returns head without the header lines that start with prefix.
func withoutHeaderLines(head, prefix string) string {
	var out strings.Builder
	for line := range strings.SplitAfterSeq(head, "\n") {
		if !strings.HasPrefix(strings.ToLower(line), strings.ToLower(prefix)) {
			out.WriteString(line)
		}
	}
	return out.String()
}

// garbageServer is a TCP server on loopback that speaks no RTSP: it counts
// the connections it accepts and answers each as its mode says.
type garbageServer struct {
	l     net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	count int
}

// The ways a garbageServer answers.
const (
	garbageReply       = iota // reads a request, answers it with random bytes, and so on
	garbageAtOnce             // sends random bytes as soon as it accepts, without end
	garbageCloseAtOnce        // closes every connection as soon as it accepts it
)

// startGarbage serves mode on addr until stop or the end of the test.
func startGarbage(t testing.TB, addr string, mode int) *garbageServer {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	g := &garbageServer{l: l, conns: map[net.Conn]struct{}{}}
	g.wg.Go(func() {
		for seed := uint64(1); ; seed++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			g.count++
			if g.conns == nil {
				c.Close()
			} else {
				g.conns[c] = struct{}{}
			}
			g.mu.Unlock()
			g.wg.Go(func() { g.serve(c, mode, seed) })
		}
	})
	t.Cleanup(g.stop)
	return g
}

// serve answers one connection.
func (g *garbageServer) serve(c net.Conn, mode int, seed uint64) {
	defer func() {
		c.Close()
		g.mu.Lock()
		delete(g.conns, c) // a no-op on the nil map after stop
		g.mu.Unlock()
	}()
	rng := rand.New(rand.NewPCG(seed, 7))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] = 0x9c // not '$' nor 'R': neither a frame nor a status line
		return b
	}
	switch mode {
	case garbageCloseAtOnce:
		return
	case garbageAtOnce:
		for {
			if _, err := c.Write(noise(16 << 10)); err != nil {
				return
			}
		}
	case garbageReply:
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line != "\r\n" {
				continue
			}
			if _, err := c.Write(noise(2000)); err != nil {
				return
			}
		}
	}
}

// connections returns how many connections the server accepted.
func (g *garbageServer) connections() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.count
}

// stop closes the listener and every connection, and waits for them.
func (g *garbageServer) stop() {
	g.l.Close()
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.conns = nil
	g.mu.Unlock()
	g.wg.Wait()
}
