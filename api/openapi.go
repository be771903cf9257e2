package api

import (
	_ "embed"
	"net/http"
)

// Spec is the OpenAPI 3 document for every endpoint, checked in beside the
// code and served at GET /openapi.json.
//
//go:embed openapi.json
var Spec []byte

func serveSpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(Spec)
}
