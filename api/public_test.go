package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/evidence"
)

func TestPublic(t *testing.T) {
	e := newEnv(t, false)
	// Each client address has its own bucket: X-Forwarded-For is not
	// trusted, so all these requests come from one address.
	var list struct {
		Cameras []map[string]any
	}
	r := e.do("GET", "/public/v1/cameras", nil, nil)
	r.json(t, &list)
	if len(list.Cameras) != 1 || list.Cameras[0]["id"] != camPublic {
		t.Fatalf("public cameras: %s", r.body)
	}
	for k := range list.Cameras[0] {
		if !slices.Contains([]string{"id", "name", "lat", "lon", "address", "snapshot"}, k) {
			t.Errorf("public camera shows %q", k)
		}
	}
	if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
		t.Errorf("Cache-Control %q", cc)
	}
	for _, tc := range []struct {
		cam  string
		want int
	}{{camPublic, 200}, {camOwnSecret, 404}, {camSecret, 404}, {camUngranted, 404}, {"no-such", 404}} {
		r := e.do("GET", "/public/v1/cameras/"+tc.cam+"/snapshot.jpg", nil, nil)
		if r.status != tc.want {
			t.Errorf("snapshot of %s: %d, want %d", tc.cam, r.status, tc.want)
		}
		if tc.want == 200 && r.header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("snapshot type %q", r.header.Get("Content-Type"))
		}
	}
	// Nothing else is reachable without an account.
	for _, p := range []string{"/public/v1/events", "/public/v1/cameras/" + camPublic, "/public/v1/cameras/" + camPublic + "/clip.mp4"} {
		if r := e.do("GET", p, nil, nil); r.status != 404 {
			t.Errorf("GET %s: %d", p, r.status)
		}
	}
	// The burst (10) is spent: hammering answers 429 with Retry-After.
	got429 := 0
	for range 20 {
		r := e.do("GET", "/public/v1/cameras", nil, nil)
		if r.status == http.StatusTooManyRequests {
			got429++
			if r.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if got429 < 15 {
		t.Errorf("%d of 20 hammering requests got 429", got429)
	}
}

func TestPublicRateLimiter(t *testing.T) {
	now := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	ps := newPublicState(PublicConfig{Rate: 2, Burst: 3}, func() time.Time { return now })
	for i, want := range []bool{true, true, true, false} {
		if ok, _ := ps.allow("a"); ok != want {
			t.Errorf("request %d: %v, want %v", i, ok, want)
		}
	}
	if ok, _ := ps.allow("b"); !ok {
		t.Error("another client is limited")
	}
	now = now.Add(500 * time.Millisecond) // one token back at 2/s
	if ok, _ := ps.allow("a"); !ok {
		t.Error("no token after 500 ms")
	}
	if ok, wait := ps.allow("a"); ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Errorf("allowed %v, wait %v", ok, wait)
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	inSpec := map[string]bool{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if m == "parameters" {
				continue
			}
			inSpec[strings.ToUpper(m)+" "+p] = true
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s: no responses", m, p)
			}
		}
	}
	e := newEnv(t, false)
	registered := map[string]bool{}
	for _, rt := range e.srv.routes() {
		k := rt.method + " " + rt.pattern
		registered[k] = true
		if !inSpec[k] {
			t.Errorf("route %s is not in openapi.yaml", k)
		}
	}
	for k := range inSpec {
		if !registered[k] {
			t.Errorf("openapi.yaml has %s, which is not a route", k)
		}
	}
	r := e.do("GET", "/api/v1/openapi.yaml", nil, nil)
	if r.status != 200 || string(r.body) != string(spec) {
		t.Errorf("served spec: %d", r.status)
	}
}

func TestEvidenceRoundTrip(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	from := footageStart.Add(5 * time.Second)
	req := map[string]any{"camera": camOwn, "from": from, "to": from.Add(20 * time.Second),
		"purpose": "traffic_safety", "purpose_text": "case 2025/17", "requester": "Traffic police, Team 3"}
	r := e.as(uPoliceOp, "POST", "/api/v1/evidence", req)
	if r.status != 201 {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	var pkg evidenceResponse
	r.json(t, &pkg)
	if pkg.Manifest.Operator.UserID != e.ids[uPoliceOp] || pkg.Manifest.Requester != "Traffic police, Team 3" || pkg.Manifest.OutsideAgency {
		t.Errorf("manifest: %+v", pkg.Manifest)
	}
	// The audit log has the export with purpose, operator and requester.
	entries := must(e.store.Audit().Query(ctx, audit.Filter{Action: ActionEvidenceExport}))
	if len(entries) != 1 {
		t.Fatalf("%d export entries", len(entries))
	}
	a := entries[0].Actor
	if a.UserID != e.ids[uPoliceOp] || a.Purpose != "traffic_safety" || a.Requester != "Traffic police, Team 3" ||
		entries[0].Object != "evidence:"+pkg.ID || !strings.Contains(string(entries[0].After), pkg.SHA256) {
		t.Errorf("audit entry: %+v %s", entries[0].Actor, entries[0].After)
	}
	// Download it: it verifies against the node key; one changed byte
	// fails verification.
	r = e.as(uPoliceOp, "GET", pkg.Download, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", r.status, r.header)
	}
	p := filepath.Join(t.TempDir(), "p.zip")
	os.WriteFile(p, r.body, 0o600)
	if rep, err := evidence.Verify(p, e.srv.EvidenceKey.Public()); err != nil || !rep.Trusted {
		t.Fatalf("verify: %v", err)
	}
	clip := bytesIndex(r.body, []byte("mdat"))
	bad := slices.Clone(r.body)
	bad[clip+100] ^= 0xff
	os.WriteFile(p, bad, 0o600)
	if _, err := evidence.Verify(p, e.srv.EvidenceKey.Public()); !errors.Is(err, evidence.ErrFileMismatch) {
		t.Errorf("verify a changed byte: %v, want ErrFileMismatch", err)
	}
	if n := len(must(e.store.Audit().Query(ctx, audit.Filter{Action: ActionEvidenceDownload}))); n != 1 {
		t.Errorf("%d download entries, want 1", n)
	}
	for _, tc := range []struct {
		user string
		body map[string]any
		want int
	}{
		{uPoliceViewer, req, 404}, // no export capability: as if absent
		{uForestOp, req, 404},     // another agency's camera
		{uPoliceOp, without(req, "requester"), 400},
		{uPoliceOp, with(req, "outside_agency", true), 400}, // needs the approval
		{uICTAdmin, with(req, "outside_agency", true), 400},
		{uICTAdmin, with(with(req, "outside_agency", true), "approval_ref", "45/UBND 2025-03-01"), 201},
	} {
		if r := e.as(tc.user, "POST", "/api/v1/evidence", tc.body); r.status != tc.want {
			t.Errorf("%s export %v: %d %s, want %d", tc.user, tc.body, r.status, r.body, tc.want)
		}
	}
	for _, u := range []string{uPoliceViewer, uForestOp} {
		if r := e.as(u, "GET", pkg.Download, nil); r.status != 404 {
			t.Errorf("%s downloads: %d, want 404", u, r.status)
		}
	}
	// Legal holds round trip, audited with the actor.
	r = e.as(uPoliceAdmin, "POST", "/api/v1/holds", map[string]any{"camera": camOwn, "from": from, "to": from.Add(time.Minute), "reason": "case 2025/17"})
	if r.status != 201 {
		t.Fatalf("hold: %d %s", r.status, r.body)
	}
	var h holdView
	r.json(t, &h)
	var holds struct{ Holds []holdView }
	e.as(uForestOp, "GET", "/api/v1/holds", nil).json(t, &holds)
	if len(holds.Holds) != 0 {
		t.Errorf("forest operator sees holds %+v", holds.Holds)
	}
	if r := e.as(uForestOp, "DELETE", "/api/v1/holds/"+h.ID+"?reason=x", nil); r.status != 404 {
		t.Errorf("forest releases police hold: %d", r.status)
	}
	if r := e.as(uPoliceAdmin, "DELETE", "/api/v1/holds/"+h.ID, nil); r.status != 400 {
		t.Errorf("release without reason: %d", r.status)
	}
	if r := e.as(uPoliceAdmin, "DELETE", "/api/v1/holds/"+h.ID+"?reason=case+closed", nil); r.status != 204 {
		t.Errorf("release: %d %s", r.status, r.body)
	}
	for _, action := range []string{ActionHoldPlace, ActionHoldRelease} {
		es := must(e.store.Audit().Query(ctx, audit.Filter{Action: action}))
		if len(es) != 1 || es[0].Actor.UserID != e.ids[uPoliceAdmin] {
			t.Errorf("%s entries: %+v", action, es)
		}
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for kk, vv := range m {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := with(m, k, nil)
	delete(out, k)
	return out
}

func bytesIndex(b, sub []byte) int { return strings.Index(string(b), string(sub)) }

func TestTLS(t *testing.T) {
	e := newEnv(t, false)
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	srv := &Server{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile, Store: e.store, Auth: e.srv.Auth,
		Events: e.srv.Events, Stats: e.srv.Stats, Live: e.hub, DataDir: e.data}
	addr := make(chan string, 1)
	srv.Ready = func(a string) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	a := <-addr
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(must(os.ReadFile(certFile)))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := c.Get("https://" + a + "/api/v1/cameras")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 401 || res.TLS == nil {
		t.Errorf("HTTPS: %d, TLS %v", res.StatusCode, res.TLS != nil)
	}
	if res, err := http.Get("http://" + a + "/healthz"); err == nil {
		if res.StatusCode == 200 {
			t.Error("plain HTTP served next to TLS")
		}
		res.Body.Close()
	}
	c.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	k := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "matthan test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der := must(x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k))
	kb := must(x509.MarshalPKCS8PrivateKey(k))
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return cf, kf
}

func TestValidate(t *testing.T) {
	e := newEnv(t, false)
	ok := func() *Server {
		return &Server{Listen: ":0", Store: e.store, Auth: e.srv.Auth, Events: e.srv.Events, Stats: e.srv.Stats, Live: e.hub, DataDir: e.data}
	}
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*Server)
	}{
		{"Store", func(s *Server) { s.Store = nil }},
		{"Auth", func(s *Server) { s.Auth = nil }},
		{"DataDir", func(s *Server) { s.DataDir = "" }},
		{"TLSKey", func(s *Server) { s.TLSCert = "cert.pem" }},
	} {
		s := ok()
		tc.edit(s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("without %s: %v", tc.field, err)
		}
	}
}
