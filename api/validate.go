package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

// SpecDoc is the embedded openapi.json, loaded and checked once.
func SpecDoc() (*openapi3.T, error) {
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(Spec)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		specDoc, specErr = doc, err
	})
	return specDoc, specErr
}

// SpecRoute is the spec's operation for a served route, as openapi3filter
// takes it; nil when the spec lacks it (TestSpecMatchesRoutes fails then).
func SpecRoute(method, path string) *routers.Route {
	doc, err := SpecDoc()
	if err != nil {
		return nil
	}
	item := doc.Paths.Find(path)
	if item == nil {
		return nil
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil
	}
	return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
}

// validated checks a request against the spec's operation before h runs:
// path and query parameters and the JSON body. A request the spec rejects
// is a 400 problem with the code the handlers use for the same mistake:
// invalid_address for addresses, invalid_request for the body of POST
// /v1/txs, invalid_query otherwise; a malformed id in a path is 404
// not_found, like an id that does not exist. The handlers' own checks stay
// (unknown and repeated parameters, bech32 checksums, canonical values).
func (s *Server) validated(method, path string, h http.HandlerFunc) http.HandlerFunc {
	route := SpecRoute(method, path)
	if route == nil {
		if _, err := SpecDoc(); err != nil {
			panic(fmt.Sprintf("api: embedded openapi.json: %v", err))
		}
		return h // not in the spec: TestSpecMatchesRoutes reports it
	}
	var pathNames []string
	for _, p := range route.Operation.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			pathNames = append(pathNames, p.Value.Name)
		}
	}
	for _, p := range route.PathItem.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			pathNames = append(pathNames, p.Value.Name)
		}
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true}
	return func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if route.Operation.RequestBody != nil {
			var ok bool
			if body, ok = readBody(w, r); !ok {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if r.Header.Get("Content-Type") == "" {
				r.Header.Set("Content-Type", "application/json")
			}
		}
		params := make(map[string]string, len(pathNames))
		for _, n := range pathNames {
			params[n] = r.PathValue(n)
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			writeValidationError(w, r, err)
			return
		}
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h(w, r)
	}
}

func writeValidationError(w http.ResponseWriter, r *http.Request, err error) {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		writeContractError(w, core.CodeInvalidQuery, err.Error()+" (see GET /openapi.json)")
		return
	}
	reason := re.Reason
	if re.Err != nil {
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			reason = se.Reason
		} else if reason == "" {
			reason = re.Err.Error()
		} else {
			reason += ": " + re.Err.Error()
		}
	}
	if re.RequestBody != nil || re.Parameter == nil {
		writeError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("body must be JSON {\"tx\": \"<base64 signed tx>\", \"wait\": true|false}: %s", reason))
		return
	}
	p := re.Parameter
	var v string
	if p.In == openapi3.ParameterInPath {
		v = r.PathValue(p.Name)
	} else {
		v = r.URL.Query().Get(p.Name)
	}
	detail := fmt.Sprintf("%s parameter %s=%q: %s (see GET /openapi.json)", p.In, p.Name, v, strings.TrimSpace(reason))
	switch {
	case p.Name == "address" || p.Name == "consumer" || p.Name == "provider":
		writeContractError(w, core.CodeInvalidAddress, detail)
	case p.In == openapi3.ParameterInPath && p.Name == "id":
		writeContractError(w, core.CodeNotFound, fmt.Sprintf("%q not found: %s", v, strings.TrimSpace(reason)))
	default:
		writeContractError(w, core.CodeInvalidQuery, detail)
	}
}
