package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/matthan/matthan/api/audit"
)

// TestClientAddr: X-Forwarded-For is believed only from a trusted proxy,
// read from the nearest hop back to the first address that is not a
// trusted proxy; anything else is the peer.
func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("fd00::1/128")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxy configured: header ignored", nil, "10.0.0.1:5000", []string{"203.0.113.7"}, "10.0.0.1:5000"},
		{"untrusted peer writes the header", proxies, "198.51.100.9:5000", []string{"203.0.113.7"}, "198.51.100.9:5000"},
		{"trusted peer, no header", proxies, "10.0.0.1:5000", nil, "10.0.0.1:5000"},
		{"trusted peer", proxies, "10.0.0.1:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"client-written entry before the real one", proxies, "10.0.0.1:5000", []string{"192.0.2.66, 203.0.113.7"}, "203.0.113.7"},
		{"two proxies", proxies, "10.0.0.1:5000", []string{"203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"two headers", proxies, "10.0.0.1:5000", []string{"192.0.2.66", "203.0.113.7"}, "203.0.113.7"},
		{"only proxies: the first", proxies, "10.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"not an address: the proxy", proxies, "10.0.0.1:5000", []string{"203.0.113.7, unknown"}, "10.0.0.1:5000"},
		{"not an address further back", proxies, "10.0.0.1:5000", []string{"garbage, 203.0.113.7"}, "203.0.113.7"},
		{"ipv6 client", proxies, "10.0.0.1:5000", []string{"2001:db8::9"}, "2001:db8::9"},
		{"ipv6 proxy", proxies, "[fd00::1]:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"ipv4-mapped proxy and client", proxies, "[::ffff:10.0.0.1]:5000", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{TrustedProxies: tc.trusted}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r); got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBehindProxy runs the API behind a trusted proxy on the loopback:
// logins are audited with the client's address, each client has
// its own public rate limit, and /metrics answers by the client's
// address, not the proxy's.
func TestBehindProxy(t *testing.T) {
	e := newEnv(t, false)
	e.srv.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	from := func(client string) map[string]string { return map[string]string{"X-Forwarded-For": client} }

	r := e.do("POST", "/api/v1/login", map[string]string{"username": uPoliceOp, "password": testPassword}, from("203.0.113.7"))
	if r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/login", map[string]string{"username": uPoliceOp, "password": "Wrong-Secret-Pass-9"}, from("192.0.2.44"))
	if r.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	addrs := map[string]string{}
	for _, en := range must(e.store.Audit().Query(context.Background(), audit.Filter{Action: "auth.*", Limit: 100})) {
		addrs[en.Action] = en.Actor.Address
	}
	if addrs["auth.login"] != "203.0.113.7" || addrs["auth.login_failed"] != "192.0.2.44" {
		t.Errorf("audited addresses %v, want the clients' behind the proxy", addrs)
	}

	// The public interface limits each client, not the proxy (burst 10,
	// one more a second).
	path := "/public/v1/cameras"
	limited := false
	for range 30 {
		if r := e.do("GET", path, nil, from("203.0.113.7")); r.status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("client A was never limited")
	}
	if r := e.do("GET", path, nil, from("198.51.100.20")); r.status != http.StatusOK {
		t.Errorf("client B behind the same proxy right after: %d %s, want its own budget", r.status, r.body)
	}

	if r := e.do("GET", "/metrics", nil, from("198.51.100.20")); r.status != http.StatusForbidden {
		t.Errorf("/metrics for an outside client through the proxy: %d, want 403", r.status)
	}
	if r := e.do("GET", "/metrics", nil, nil); r.status != http.StatusOK {
		t.Errorf("/metrics on the loopback: %d, want 200", r.status)
	}
}
