package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	tests := []struct {
		name, path string
		status     int
		typ        string // Content-Type prefix
		body       string // a substring of the body
	}{
		{"index", "/console/", 200, "text/html", `<script type="module" src="/console/app.js">`},
		{"app route", "/console/cameras/cam-1", 200, "text/html", `id="app"`},
		{"nested app route", "/console/cameras/cam-1/scene", 200, "text/html", `id="app"`},
		{"module", "/console/app.js", 200, "text/javascript", "setRenderer"},
		{"stylesheet", "/console/style.css", 200, "text/css", "--brand"},
		{"missing module", "/console/pages/nope.js", 404, "", ""},
		{"escape attempt", "/console/../go.mod", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			res := rec.Result()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q lacks default-src 'self'", csp)
			}
			if tt.status != 200 {
				return
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.typ) {
				t.Errorf("Content-Type %q, want %s", got, tt.typ)
			}
			b, _ := io.ReadAll(res.Body)
			if !strings.Contains(string(b), tt.body) {
				t.Errorf("body lacks %q", tt.body)
			}
		})
	}
}

// TestNothingExternal checks that no console file loads anything from
// another origin: the console must work on an engine without internet.
func TestNothingExternal(t *testing.T) {
	err := fs.WalkDir(Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Files(), name)
		if err != nil {
			return err
		}
		for _, bad := range []string{"http://", "https://", "//fonts.", "//cdn"} {
			s := string(b)
			for i := strings.Index(s, bad); i >= 0; i = strings.Index(s, bad) {
				// The SVG and XHTML namespaces are names, not fetches.
				if !strings.HasPrefix(s[i:], "http://www.w3.org/") {
					t.Errorf("%s refers to an outside address: %q", name, s[i:min(len(s), i+60)])
					break
				}
				s = s[i+len(bad):]
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
