// Package console is the web console: a single-page application for
// operators, police, rangers and planners, served by the engine at
// /console/ from files embedded in the binary (folder web).
//
// The console is plain ES modules, HTML and CSS: there is nothing to
// build, nothing is fetched from outside (no CDN, no web fonts, no map
// tiles), so it works on an engine without internet access. It holds no
// data of its own: every page calls the API (/api/v1) with the session
// cookie and the CSRF token, and the server checks every call. The pages
// are anonymous files; what they show comes only from those calls.
//
// Layout of web: index.html loads app.js (router, layout, sign-in and the
// forced password change, R-17.4); lib holds the shared pieces (API
// client, translations and Vietnamese formats, DOM helpers, widgets);
// pages holds one module per page, each registering its own Vietnamese
// and English messages.
//
// For development, MATTHAN_CONSOLE_DIR names a folder to serve instead of
// the embedded files (edit and reload, no rebuild).
package console
