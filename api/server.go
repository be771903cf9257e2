// Package api serves the Open API: REST over the node's state and mempool.
// It talks to the node through the CometBFT RPC client interface, so the same
// server runs inside the node or in front of a remote one.
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// Node is the part of CometBFT's RPC client the API uses.
type Node interface {
	Status(ctx context.Context) (*ctypes.ResultStatus, error)
	ABCIQuery(ctx context.Context, path string, data cmtbytes.HexBytes) (*ctypes.ResultABCIQuery, error)
	BroadcastTxSync(ctx context.Context, tx cmttypes.Tx) (*ctypes.ResultBroadcastTx, error)
	Tx(ctx context.Context, hash []byte, prove bool) (*ctypes.ResultTx, error)
	Block(ctx context.Context, height *int64) (*ctypes.ResultBlock, error)
}

// Server is the REST API.
type Server struct {
	node   Node
	mux    *http.ServeMux
	routes []Route
	// CommitTimeout bounds how long POST /v1/txs waits for inclusion.
	CommitTimeout time.Duration
	// Failure, when set, reports an error that stopped the node's block
	// execution (chain.App.Failure): /healthz and /readyz fail on it.
	Failure func() error
	// MaxBlockAge, when non-zero, is how old the latest block may be for
	// /readyz to answer ready: a node whose consensus stalled is not.
	MaxBlockAge time.Duration
}

// Route is one served endpoint. The list is what the OpenAPI test compares
// with openapi.json, so the spec and the server cannot drift apart.
type Route struct {
	Method, Path string
}

// New builds the API over a node.
func New(node Node) *Server {
	s := &Server{node: node, mux: http.NewServeMux(), CommitTimeout: 30 * time.Second}
	s.handle("GET", "/healthz", s.healthz)
	s.handle("GET", "/readyz", s.readyz)
	s.handle("GET", "/openapi.json", serveSpec)
	s.handle("GET", "/v1/status", s.status)
	s.handle("GET", "/v1/blocks/{height}", s.block)
	s.handle("GET", "/v1/accounts/{address}", s.account)
	s.handle("GET", "/v1/params", s.query("params"))
	s.handle("GET", "/v1/supply", s.query("supply"))
	s.handle("POST", "/v1/txs", s.postTx)
	s.handle("POST", "/v1/txs/simulate", s.postSimulate) // simulate.go
	s.handle("GET", "/v1/txs/{hash}", s.getTx)
	s.handle("GET", "/v1/providers", s.list("providers", providersParams))
	s.handle("GET", "/v1/providers/{address}", s.provider)
	s.handle("GET", "/v1/units", s.list("units", unitsParams))
	s.handle("GET", "/v1/units/{id}", s.byID("units", "unit", "unit-", unitIDPattern))
	s.handle("GET", "/v1/reservations", s.list("reservations", reservationsParams))
	s.handle("GET", "/v1/reservations/{id}", s.byID("reservations", "reservation", "res-", resIDPattern))
	s.handle("GET", "/v1/quote", s.list("quote", quoteParams, "bytes", "term"))
	s.handle("GET", "/v1/stats", s.query("stats"))
	s.handle("GET", "/v1/stats/epochs", s.list("stats/epochs", epochRangeParams))
	s.handle("GET", "/v1/units/{id}/qos", s.unitQoS)
	s.handle("GET", "/v1/providers/{address}/score", s.providerScore)
	s.handle("GET", "/v1/providers/{address}/changes", s.providerChanges)
	s.handle("GET", "/v1/oracles", s.list("oracles", providersParams))
	s.handle("GET", "/v1/oracles/{address}", s.oracle)
	s.handle("GET", "/v1/oracles/{address}/assignments", s.oracleAssignments)
	s.handle("GET", "/v1/units/{id}/oracles", s.unitOracles)
	s.handle("GET", "/v1/accesskeys", s.accessKeys)
	s.handle("GET", "/v1/accesskeys/{id}", s.byID("accesskeys", "access key", "FB", accessKeyIDPattern))
	s.handle("GET", "/v1/repos", s.list("repos", reposParams))
	s.handle("GET", "/v1/repos/{owner}/{name}", s.repoByName)
	s.handle("GET", "/v1/repo-keys", s.repoKeys)
	s.handle("GET", "/v1/repo-keys/{id}", s.byID("repo-keys", "repo key", "FB", accessKeyIDPattern))
	s.disputeRoutes()   // dispute_queries.go
	s.statementRoutes() // statement.go
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s (see GET /openapi.json)", r.Method, r.URL.Path))
	})
	return s
}

func (s *Server) handle(method, path string, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Path: path})
	s.mux.HandleFunc(method+" "+path, s.validated(method, path, h))
}

// Routes lists the served endpoints.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// problem builds a types.ErrorBody for a stable code.
func problem(status int, code, detail string) types.ErrorBody {
	return types.ErrorBody{Type: "urn:flashback:error:" + code, Title: code, Status: status, Detail: detail, Code: code}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if _, ok := v.(types.ErrorBody); ok {
		w.Header().Set("Content-Type", "application/problem+json")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, problem(status, code, msg))
}

// writeContractError maps a contract code to an HTTP status.
func writeContractError(w http.ResponseWriter, code core.Code, msg string) {
	status := http.StatusBadRequest
	switch code {
	case core.CodeNotFound:
		status = http.StatusNotFound
	case core.CodeUnauthorized, core.CodeBadSignature:
		status = http.StatusForbidden
	case core.CodeInternal:
		status = http.StatusInternalServerError
	case core.CodeBadSequence, core.CodeAlreadyExists, core.CodeWrongState:
		status = http.StatusConflict
	case core.CodeTxTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	p := problem(status, code.Name(), msg)
	p.ABCICode = uint32(code)
	writeJSON(w, status, p)
}
