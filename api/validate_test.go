package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
)

// TestRequestsValidatedAgainstSpec checks that requests the spec rejects
// are answered by the spec validation, before any handler (the server has
// no node: a request reaching one would be a 500), with the stable codes.
func TestRequestsValidatedAgainstSpec(t *testing.T) {
	if _, err := SpecDoc(); err != nil {
		t.Fatalf("openapi.json does not load or validate: %v", err)
	}
	s := New(nil)
	for _, c := range []struct {
		method, target, body string
		status               int
		code, detail         string
	}{
		{"GET", "/v1/blocks/0", "", 400, "invalid_query", "path parameter height"},
		{"GET", "/v1/blocks/abc", "", 400, "invalid_query", "path parameter height"},
		{"GET", "/v1/providers?limit=101", "", 400, "invalid_query", "query parameter limit"},
		{"GET", "/v1/providers?all=perhaps", "", 400, "invalid_query", "query parameter all"},
		{"GET", "/v1/units?min_score=101", "", 400, "invalid_query", "query parameter min_score"},
		{"GET", "/v1/units?kind=floppy", "", 400, "invalid_query", "query parameter kind"},
		{"GET", "/v1/reservations?status=dormant", "", 400, "invalid_query", "query parameter status"},
		{"GET", "/v1/units/unit-1/qos?from=-1", "", 400, "invalid_query", "query parameter from"},
		{"GET", "/v1/stats/epochs?to=soon", "", 400, "invalid_query", "query parameter to"},
		{"GET", "/v1/units/bogus/qos", "", 404, "not_found", "not found"},
		{"GET", "/v1/accesskeys?reservation=res-x", "", 400, "invalid_query", "query parameter reservation"},
		{"POST", "/v1/txs", `{"wait": true}`, 400, "invalid_request", `"tx"`},
		{"POST", "/v1/txs", `{"tx": 12}`, 400, "invalid_request", "body must be JSON"},
		{"POST", "/v1/txs", `{"tx": "AAAA", "wait": "yes"}`, 400, "invalid_request", "body must be JSON"},
		{"POST", "/v1/txs", `[]`, 400, "invalid_request", "body must be JSON"},
		{"POST", "/v1/txs", `{"tx": "` + strings.Repeat("A", maxRequestBody) + `"}`, 413, "tx_too_large", "over"},
	} {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		var pb types.ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &pb); err != nil || w.Code != c.status || pb.Code != c.code ||
			!strings.Contains(pb.Detail, c.detail) || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %.80s: %d %s %.300s; want %d %s with %q", c.method, c.target, w.Code, w.Header().Get("Content-Type"), w.Body.String(), c.status, c.code, c.detail)
		}
	}
	// A valid request passes validation and reaches its handler.
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/openapi.json", nil))
	if w.Code != http.StatusOK {
		t.Errorf("GET /openapi.json: %d", w.Code)
	}
}
