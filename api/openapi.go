package api

import (
	_ "embed"
	"net/http"
)

// spec is the OpenAPI 3 description of the API, kept true by a test that
// compares it with the registered routes.
//
//go:embed openapi.yaml
var spec []byte

// serveSpec serves the OpenAPI spec.
func serveSpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(spec)
}
