package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/deploy/testenv"
	"github.com/matthan/matthan/ingest"
	"github.com/matthan/matthan/ingest/decode"
	"github.com/matthan/matthan/ingest/record"
	"github.com/matthan/matthan/sink"
	"github.com/matthan/matthan/sink/clickhouse"
)

// The fixture, seen from the police: its own cameras (one a state
// secret), a forest camera granted to it, another forest camera that is a
// state secret, an ungranted commune camera and a public commune camera.
const (
	camOwn       = "police-1"
	camOwnSecret = "police-secret"
	camGranted   = "forest-1"
	camSecret    = "forest-secret"
	camUngranted = "commune-1"
	camPublic    = "commune-pub"
)

var allCams = []string{camOwn, camOwnSecret, camGranted, camSecret, camUngranted, camPublic}

// Users of the fixture, by login name; every one has testPassword.
const (
	uICTAdmin     = "ict-admin"
	uICTAuditor   = "ict-auditor"
	uPoliceAdmin  = "police-admin"
	uPoliceOp     = "police-op"
	uPoliceViewer = "police-viewer"
	uPoliceAudit  = "police-auditor"
	uForestOp     = "forest-op"
)

var allUsers = []string{uICTAdmin, uICTAuditor, uPoliceAdmin, uPoliceOp, uPoliceViewer, uPoliceAudit, uForestOp}

// testPassword meets the password rules.
const testPassword = "Correct-Horse-42-battery"

// secretURL is the stream URL stored for every camera; it must never
// appear in an answer or a log line.
const secretURL = "rtsp://cam-operator:S3cr3t-Cam-Pass@10.9.8.7:554/Streaming/Channels/101"

// cheap are argon2id costs for tests.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

// setupActor makes the fixture.
var setupActor = audit.Actor{UserID: "setup", Address: "local:test"}

// chdb is the process's one embedded chDB connection and its store.
var chdb struct {
	once  sync.Once
	dir   string
	emb   *clickhouse.Embedded
	store *clickhouse.Store
	err   error
}

// recordings is the footage recorded once as camera camOwn.
var recordings struct {
	once sync.Once
	root string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chdb.emb != nil {
		chdb.emb.Close()
	}
	for _, d := range []string{chdb.dir, recordings.root} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// events returns the shared chDB event store, migrated.
func events(t *testing.T) *clickhouse.Store {
	t.Helper()
	lib := testenv.CHDB(t)
	chdb.once.Do(func() {
		if chdb.dir, chdb.err = os.MkdirTemp("", "api-chdb-"); chdb.err != nil {
			return
		}
		if chdb.emb, chdb.err = clickhouse.OpenEmbedded(chdb.dir, lib); chdb.err != nil {
			return
		}
		chdb.store = &clickhouse.Store{Backend: chdb.emb}
		chdb.err = chdb.store.Migrate(context.Background())
	})
	if chdb.err != nil {
		t.Fatalf("chDB: %v", chdb.err)
	}
	return chdb.store
}

// footage is the intersection clip: 30.3 s.
const footage = "traffic_intersection_signals_cctv_day.mp4"

// footageStart is the capture time of the first recorded frame.
var footageStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// recordingsRoot returns a recordings root holding the footage recorded
// by the real Recorder as camera camOwn.
func recordingsRoot(t *testing.T) string {
	t.Helper()
	clip := testenv.Clip(t, footage)
	recordings.once.Do(func() {
		if recordings.root, recordings.err = os.MkdirTemp("", "api-recordings-"); recordings.err == nil {
			recordings.err = recordClip(clip, recordings.root, camOwn)
		}
	})
	if recordings.err != nil {
		t.Fatalf("record footage: %v", recordings.err)
	}
	return recordings.root
}

func recordClip(p, root, camera string) error { return recordClipAt(p, root, camera, footageStart) }

// recordClipAt records clip p as camera into root, its first frame
// captured at start.
func recordClipAt(p, root, camera string, start time.Time) error {
	d, err := decode.OpenFile(p)
	if err != nil {
		return err
	}
	defer d.Close()
	r := &record.Recorder{Root: root, CameraID: camera, SegmentDuration: 10 * time.Second, QueueLength: 1000}
	for {
		pkt, err := d.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		r.Push(ingest.AccessUnit{Params: d.Params(), NALUs: pkt.NALUs, PTS: pkt.PTS,
			Capture: start.Add(pkt.PTS), Keyframe: pkt.Keyframe})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return r.Run(ctx) // records the queue, then stops
}

// must returns v, and panics (failing the test) on err: for fixtures.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// logBuffer collects every log line of a server.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fakeSnapshots stands in for the engine's latest-frame store (the lead
// implements it): a fixed JPEG for every camera.
type fakeSnapshots struct{ jpeg []byte }

func (f fakeSnapshots) Latest(string) ([]byte, time.Time, bool) {
	return f.jpeg, time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC), true
}

// env is a running server on a fixture world.
type env struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	store  *store.Store
	hub    *sink.Hub
	logs   *logBuffer
	data   string
	ids    map[string]string // user name → id
	tokens map[string]string // user name → bearer token (logged in lazily)

	mu     sync.Mutex
	bodies []string // every answer's body and headers
}

// newEnv builds the fixture and starts a server on it. With rec, camOwn
// has the recorded footage.
func newEnv(t *testing.T, rec bool) *env {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	st := must(store.Open(ctx, store.Path(data), store.Options{Key: []byte("0123456789abcdef0123456789abcdef")}))
	t.Cleanup(func() { st.Close() })
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{t: t, store: st, logs: logs, data: data, ids: map[string]string{}, tokens: map[string]string{}}
	e.buildWorld()

	root := filepath.Join(data, "recordings")
	if rec {
		root = recordingsRoot(t)
	}
	key := must(evidence.LoadOrCreateKey(evidence.KeyDir(data)))
	e.hub = &sink.Hub{RecentSize: 10}
	e.srv = &Server{
		Store:       st,
		Auth:        auth.New(st, auth.Config{Params: cheap}, logger, nil),
		Cameras:     func() []CameraStatus { return cameraStatuses() },
		Events:      events(t),
		Stats:       events(t),
		Live:        e.hub,
		Snapshots:   fakeSnapshots{jpeg: []byte("\xff\xd8\xff\xe0 public picture \xff\xd9")},
		Retention:   &record.Retention{Root: filepath.Join(data, "holds")},
		Recordings:  root,
		EvidenceKey: key,
		DataDir:     data,
		Node:        "test-node",
		Public:      PublicConfig{Rate: 1, Burst: 10, CacheTTL: time.Second},
		Logger:      logger,
	}
	os.MkdirAll(e.srv.Retention.Root, 0o750)
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.checkNoSecrets)
	t.Cleanup(e.ts.Close)
	return e
}

// neverShown are strings no answer and no log line may hold: the stream
// URL and its parts, passwords, password hashes.
var neverShown = []string{secretURL, "S3cr3t-Cam-Pass", "10.9.8.7", "cam-operator", "$argon2id", testPassword,
	"Reset-Password-2025!", "Brand-New-Password-7", "Wrong-Secret-Pass-9"}

// checkNoSecrets greps every answer and the whole log for neverShown, and
// the log for session tokens.
func (e *env) checkNoSecrets() {
	e.mu.Lock()
	answers := strings.Join(e.bodies, "\n")
	e.mu.Unlock()
	logs := e.logs.String()
	if len(answers) == 0 {
		return
	}
	for _, s := range neverShown {
		if strings.Contains(answers, s) {
			e.t.Errorf("an answer holds %q", s)
		}
		if strings.Contains(logs, s) {
			e.t.Errorf("the log holds %q", s)
		}
	}
	for u, tok := range e.tokens {
		if strings.Contains(logs, tok) {
			e.t.Errorf("the log holds %s's session token", u)
		}
	}
	if !strings.Contains(logs, "msg=request") {
		e.t.Error("no access log lines were captured")
	}
}

// cameraStatuses is the engine's status: every camera running, one with
// an error text that (wrongly) holds a URL, which the API must redact.
func cameraStatuses() []CameraStatus {
	var out []CameraStatus
	for _, c := range allCams {
		out = append(out, CameraStatus{ID: c, State: "running", FPS: 25, LastError: "dial " + secretURL + ": refused"})
	}
	return out
}

func (e *env) buildWorld() {
	st, ctx := e.store, context.Background()
	for _, a := range []store.Agency{
		{ID: "ict", Name: "Sở TT&TT", ICT: true},
		{ID: "police", Name: "Công an tỉnh", Functions: []store.Purpose{store.PurposeSecurity, store.PurposeTraffic}},
		{ID: "forest", Name: "Kiểm lâm", Functions: []store.Purpose{store.PurposeForestFire}},
		{ID: "commune", Name: "UBND xã", Functions: []store.Purpose{store.PurposeUrban}},
	} {
		must(st.CreateAgency(ctx, setupActor, a))
	}
	for _, y := range []store.System{
		{ID: "ioc", Name: "IOC", Tier: store.TierI, ManagingAgency: "ict"},
		{ID: "police-sys", Name: "Police", Tier: store.TierII, ManagingAgency: "police"},
		{ID: "forest-sys", Name: "Forest", Tier: store.TierII, ManagingAgency: "forest"},
		{ID: "commune-sys", Name: "Commune", Tier: store.TierIII, ManagingAgency: "commune"},
	} {
		must(st.CreateSystem(ctx, setupActor, y))
	}
	for _, c := range []store.Camera{
		{ID: camOwn, SystemID: "police-sys", Name: "Police gate"},
		{ID: camOwnSecret, SystemID: "police-sys", Name: "Police yard", StateSecret: true},
		{ID: camGranted, SystemID: "forest-sys", Name: "Forest ridge"},
		{ID: camSecret, SystemID: "forest-sys", Name: "Forest depot", StateSecret: true},
		{ID: camUngranted, SystemID: "commune-sys", Name: "Commune market"},
		{ID: camPublic, SystemID: "commune-sys", Name: "Commune square", Public: true, Address: "1 Square"},
	} {
		must(st.CreateCamera(ctx, setupActor, c, store.CameraSecret{StreamURL: secretURL, Username: "cam-operator", Password: "S3cr3t-Cam-Pass"}))
	}
	must(st.CreateGrant(ctx, setupActor, store.Grant{AgencyID: "police", CameraID: camGranted,
		Capabilities: []store.Capability{store.CapLiveView, store.CapEvents, store.CapStatistics},
		Purpose:      store.PurposeSecurity, Expires: time.Now().Add(30 * 24 * time.Hour)}))
	hash := must(auth.HashPassword(testPassword, cheap))
	for _, u := range []store.User{
		{AgencyID: "ict", Username: uICTAdmin, Role: store.RoleICTAdmin},
		{AgencyID: "ict", Username: uICTAuditor, Role: store.RoleAuditor},
		{AgencyID: "police", Username: uPoliceAdmin, Role: store.RoleSystemAdmin},
		{AgencyID: "police", Username: uPoliceOp, Role: store.RoleOperator},
		{AgencyID: "police", Username: uPoliceViewer, Role: store.RoleViewer},
		{AgencyID: "police", Username: uPoliceAudit, Role: store.RoleAuditor},
		{AgencyID: "forest", Username: uForestOp, Role: store.RoleOperator},
	} {
		e.ids[u.Username] = must(st.CreateUser(ctx, setupActor, u, hash)).ID
	}
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with optional headers and a JSON body (a string is
// sent as is).
func (e *env) do(method, path string, body any, hdr map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, string(b)+"\n"+headerText(res.Header))
	e.mu.Unlock()
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func headerText(h http.Header) string {
	var b strings.Builder
	h.Write(&b)
	return b.String()
}

// login logs user in and returns the bearer token.
func (e *env) login(user string) string {
	e.t.Helper()
	if tok, ok := e.tokens[user]; ok {
		return tok
	}
	r := e.do("POST", "/api/v1/login", map[string]string{"username": user, "password": testPassword}, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	var s struct{ Token string }
	r.json(e.t, &s)
	e.tokens[user] = s.Token
	return s.Token
}

// as sends a request as user with a bearer token.
func (e *env) as(user, method, path string, body any) response {
	e.t.Helper()
	return e.do(method, path, body, map[string]string{"Authorization": "Bearer " + e.login(user)})
}

// newEventID returns a UUIDv7.
func newEventID() string { return uuid.Must(uuid.NewV7()).String() }
