package api

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestMetricsNetworks: /metrics, which names the cameras and their
// activity, answers the loopback and the configured networks only.
func TestMetricsNetworks(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "matthan_test_total", Help: "a test counter"}))
	s := &Server{Gatherer: reg, DataDir: t.TempDir(),
		MetricsFrom: []netip.Prefix{netip.MustParsePrefix("10.30.0.0/16"), netip.MustParsePrefix("fd00::/8")}}
	h := s.Handler()
	for _, tc := range []struct {
		remote string
		status int
	}{
		{"127.0.0.1:40000", http.StatusOK},
		{"[::1]:40000", http.StatusOK},
		{"10.30.4.5:40000", http.StatusOK},
		{"[::ffff:10.30.4.5]:40000", http.StatusOK},
		{"[fd00::7]:40000", http.StatusOK},
		{"10.31.0.1:40000", http.StatusForbidden},
		{"192.168.1.20:40000", http.StatusForbidden},
		{"[2001:db8::1]:40000", http.StatusForbidden},
		{"not an address", http.StatusForbidden},
	} {
		t.Run(tc.remote, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.RemoteAddr = tc.remote
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, body, tc.status)
			}
			if served := strings.Contains(body, "matthan_test_total"); served != (tc.status == http.StatusOK) {
				t.Errorf("metrics in the answer: %v (%d)", served, rec.Code)
			}
		})
	}
}
