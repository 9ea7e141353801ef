package console

import (
	"embed"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

//go:embed web
var embedded embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// DirEnv names a folder served instead of the embedded files, for
// development.
const DirEnv = "MATTHAN_CONSOLE_DIR"

// contentSecurityPolicy allows only the engine's own origin: scripts,
// styles, pictures, clips and API calls. Inline scripts and styles are not
// allowed, nor being framed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; " +
	"form-action 'self'; frame-ancestors 'none'"

// Handler serves the console under Prefix: the files of web, and
// index.html for every other path (the application's own routes, such as
// /console/cameras/cam-1), so that links can be opened directly.
func Handler() http.Handler {
	files := Files()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), strings.TrimSuffix(Prefix, "/"))
		name = strings.TrimPrefix(name, "/")
		switch {
		case isFile(files, name):
		case path.Ext(name) != "":
			// A file the console lacks (a page module, a picture): the
			// application's routes have no extension.
			http.NotFound(w, r)
			return
		default:
			// An application route: the page decides what to show after
			// asking the API, which checks the session.
			name = "index.html"
		}
		serveFile(w, r, files, name)
	})
}

// serveFile answers with one file (ServeContent sets its type from the
// name, and answers conditional and range requests).
func serveFile(w http.ResponseWriter, r *http.Request, files fs.FS, name string) {
	f, err := files.Open(name)
	if err != nil {
		http.Error(w, "console file missing: "+name, http.StatusInternalServerError)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	rs, ok := f.(io.ReadSeeker)
	if err != nil || !ok {
		http.Error(w, "console file unreadable: "+name, http.StatusInternalServerError)
		return
	}
	http.ServeContent(w, r, name, fi.ModTime(), rs)
}

// Files returns the console's files: the embedded ones, or those of the
// folder DirEnv names.
func Files() fs.FS {
	if dir := os.Getenv(DirEnv); dir != "" {
		return os.DirFS(dir)
	}
	sub, err := fs.Sub(embedded, "web")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	return sub
}

// isFile reports whether name is a regular file of files.
func isFile(files fs.FS, name string) bool {
	if !fs.ValidPath(name) {
		return false
	}
	fi, err := fs.Stat(files, name)
	return err == nil && fi.Mode().IsRegular()
}
