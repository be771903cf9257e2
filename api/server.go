// Package api serves the Open API: REST over the node's state and mempool.
// It talks to the node through the CometBFT RPC client interface, so the same
// server runs inside the node or in front of a remote one.
package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/tx"
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
	s.handle("GET", "/openapi.json", serveSpec)
	s.handle("GET", "/v1/status", s.status)
	s.handle("GET", "/v1/blocks/{height}", s.block)
	s.handle("GET", "/v1/accounts/{address}", s.account)
	s.handle("GET", "/v1/params", s.query("params"))
	s.handle("GET", "/v1/supply", s.query("supply"))
	s.handle("POST", "/v1/txs", s.postTx)
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
	s.handle("GET", "/v1/accesskeys", s.accessKeys)
	s.handle("GET", "/v1/accesskeys/{id}", s.byID("accesskeys", "access key", "FB", accessKeyIDPattern))
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

// ErrorBody is every error response: an RFC 9457 problem document
// (application/problem+json) extended with the stable error code. Type and
// title derive from the code; detail says what to fix.
type ErrorBody struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	ABCICode uint32 `json:"abci_code,omitempty"`
}

// problem builds an ErrorBody for a stable code.
func problem(status int, code, detail string) ErrorBody {
	return ErrorBody{Type: "urn:flashback:error:" + code, Title: code, Status: status, Detail: detail, Code: code}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if _, ok := v.(ErrorBody); ok {
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
func writeContractError(w http.ResponseWriter, code contract.Code, msg string) {
	status := http.StatusBadRequest
	switch code {
	case contract.CodeNotFound:
		status = http.StatusNotFound
	case contract.CodeUnauthorized, contract.CodeBadSignature:
		status = http.StatusForbidden
	case contract.CodeInternal:
		status = http.StatusInternalServerError
	case contract.CodeBadSequence, contract.CodeAlreadyExists, contract.CodeWrongState:
		status = http.StatusConflict
	case contract.CodeTxTooLarge:
		status = http.StatusRequestEntityTooLarge
	}
	p := problem(status, code.Name(), msg)
	p.ABCICode = uint32(code)
	writeJSON(w, status, p)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "height": st.SyncInfo.LatestBlockHeight, "catching_up": st.SyncInfo.CatchingUp})
}

// Status is GET /v1/status.
type Status struct {
	ChainID         string    `json:"chain_id"`
	NodeID          string    `json:"node_id"`
	Moniker         string    `json:"moniker"`
	Height          int64     `json:"height"`
	AppHash         string    `json:"app_hash"`
	LatestBlockTime time.Time `json:"latest_block_time"`
	CatchingUp      bool      `json:"catching_up"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, Status{
		ChainID:         st.NodeInfo.Network,
		NodeID:          string(st.NodeInfo.DefaultNodeID),
		Moniker:         st.NodeInfo.Moniker,
		Height:          st.SyncInfo.LatestBlockHeight,
		AppHash:         hex.EncodeToString(st.SyncInfo.LatestAppHash),
		LatestBlockTime: st.SyncInfo.LatestBlockTime.UTC(),
		CatchingUp:      st.SyncInfo.CatchingUp,
	})
}

// Block is GET /v1/blocks/{height}. AppHash is the state hash after the
// previous block, as CometBFT headers carry it.
type Block struct {
	Height  int64     `json:"height"`
	Hash    string    `json:"hash"`
	AppHash string    `json:"app_hash"`
	Time    time.Time `json:"time"`
	NumTxs  int       `json:"num_txs"`
}

func (s *Server) block(w http.ResponseWriter, r *http.Request) {
	h, err := strconv.ParseInt(r.PathValue("height"), 10, 64)
	if err != nil || h < 1 {
		writeError(w, http.StatusBadRequest, "invalid_query", "height must be a positive integer")
		return
	}
	b, err := s.node.Block(r.Context(), &h)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, Block{
		Height: b.Block.Height, Hash: hex.EncodeToString(b.BlockID.Hash),
		AppHash: hex.EncodeToString(b.Block.AppHash), Time: b.Block.Time.UTC(), NumTxs: len(b.Block.Txs),
	})
}

// abciQuery runs a contract query and writes its JSON or its error.
func (s *Server) abciQuery(w http.ResponseWriter, r *http.Request, path string) {
	res, err := s.node.ABCIQuery(r.Context(), "/"+path, nil)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	if res.Response.Code != 0 {
		writeContractError(w, contract.Code(res.Response.Code), res.Response.Log)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Flashback-Height", strconv.FormatInt(res.Response.Height, 10))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Response.Value)
	_, _ = w.Write([]byte("\n"))
}

func (s *Server) query(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.abciQuery(w, r, path) }
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	addr, err := pAddress(r.PathValue("address"))
	if err != nil {
		writeContractError(w, contract.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	s.abciQuery(w, r, "account/"+addr)
}

// TxRequest is the body of POST /v1/txs.
type TxRequest struct {
	// Tx is the signed tx bytes, base64.
	Tx []byte `json:"tx"`
	// Wait for the tx to be committed (default true).
	Wait *bool `json:"wait,omitempty"`
}

// TxResult is a tx's outcome: Code 0 means every message succeeded.
type TxResult struct {
	Hash     string           `json:"hash"`
	Height   int64            `json:"height"`
	Code     uint32           `json:"code"`
	CodeName string           `json:"code_name"`
	Log      string           `json:"log"`
	Events   []contract.Event `json:"events"`
}

const maxRequestBody = 2 * tx.MaxTxBytes

// readBody reads a request body of at most maxRequestBody bytes; past that,
// or on a read error, it answers the request and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return nil, false
	}
	if len(body) > maxRequestBody {
		writeContractError(w, contract.CodeTxTooLarge, fmt.Sprintf("request is over %d bytes", maxRequestBody))
		return nil, false
	}
	return body, true
}

func (s *Server) postTx(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req TxRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "body must be JSON {\"tx\": \"<base64 signed tx>\"}: "+err.Error())
		return
	}
	if len(req.Tx) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "tx is empty")
		return
	}
	res, err := s.node.BroadcastTxSync(r.Context(), req.Tx)
	if err != nil {
		if strings.Contains(err.Error(), "tx already exists in cache") {
			writeContractError(w, contract.CodeBadSequence, "this exact tx was already submitted")
			return
		}
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	hash := strings.ToUpper(hex.EncodeToString(res.Hash))
	if res.Code != 0 {
		writeContractError(w, contract.Code(res.Code), res.Log)
		return
	}
	if req.Wait != nil && !*req.Wait {
		writeJSON(w, http.StatusAccepted, TxResult{Hash: hash, Code: 0, CodeName: "ok"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.CommitTimeout)
	defer cancel()
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 250*time.Millisecond) {
		tr, err := s.node.Tx(ctx, res.Hash, false)
		if err == nil {
			writeJSON(w, http.StatusOK, txResult(tr))
			return
		}
		if !isNotFound(err) {
			writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
			return
		}
		select {
		case <-ctx.Done():
			writeError(w, http.StatusGatewayTimeout, "timeout",
				fmt.Sprintf("tx %s accepted into the mempool but not committed within %s; query GET /v1/txs/%s", hash, s.CommitTimeout, hash))
			return
		case <-time.After(delay):
		}
	}
}

func isNotFound(err error) bool { return err != nil && strings.Contains(err.Error(), "not found") }

func (s *Server) getTx(w http.ResponseWriter, r *http.Request) {
	hash, err := hex.DecodeString(r.PathValue("hash"))
	if err != nil || len(hash) != 32 {
		writeError(w, http.StatusBadRequest, "invalid_query", "hash must be 64 hex characters")
		return
	}
	tr, err := s.node.Tx(r.Context(), hash, false)
	if err != nil {
		if isNotFound(err) {
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no committed tx %X", hash))
			return
		}
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, txResult(tr))
}

func txResult(tr *ctypes.ResultTx) TxResult {
	code := contract.Code(tr.TxResult.Code)
	return TxResult{
		Hash:     strings.ToUpper(hex.EncodeToString(tr.Hash)),
		Height:   tr.Height,
		Code:     tr.TxResult.Code,
		CodeName: code.Name(),
		Log:      tr.TxResult.Log,
		Events:   fromABCI(tr.TxResult.Events),
	}
}

func fromABCI(evs []abci.Event) []contract.Event {
	out := make([]contract.Event, 0, len(evs))
	for _, e := range evs {
		ce := contract.Event{Type: e.Type, Attrs: []contract.Attr{}}
		for _, a := range e.Attributes {
			ce.Attrs = append(ce.Attrs, contract.Attr{Key: a.Key, Value: a.Value})
		}
		out = append(out, ce)
	}
	return out
}

// ---- market ----

// A queryParam checks one query-string parameter of a list endpoint and
// returns it in the form the contract reads. The tables below are what
// api/spec/market.json documents.
type queryParam func(v string) (string, error)

var (
	accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,32}$`)
	unitIDPattern      = regexp.MustCompile(`^unit-[1-9][0-9]{0,19}$`)
	resIDPattern       = regexp.MustCompile(`^res-[1-9][0-9]{0,19}$`)
	hexPattern         = regexp.MustCompile(`^[0-9a-f]+$`)
)

func pLimit(v string) (string, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > contract.MaxPageSize {
		return "", fmt.Errorf("must be an integer from 1 to %d", contract.MaxPageSize)
	}
	return strconv.Itoa(n), nil
}

func pCursor(v string) (string, error) {
	if len(v) > 512 || !hexPattern.MatchString(v) || len(v)%2 != 0 {
		return "", fmt.Errorf("is not a cursor this API returned (pass next_cursor unchanged)")
	}
	return v, nil
}

func pAddress(v string) (string, error) {
	raw, err := address.Parse(v)
	if err != nil {
		return "", fmt.Errorf("is not an fb1… address: %v", err)
	}
	return address.Encode(raw), nil
}

func pPattern(re *regexp.Regexp, example string) queryParam {
	return func(v string) (string, error) {
		if !re.MatchString(v) {
			return "", fmt.Errorf("must look like %s", example)
		}
		return v, nil
	}
}

func pEnum(values ...string) queryParam {
	return func(v string) (string, error) {
		for _, x := range values {
			if v == x {
				return v, nil
			}
		}
		return "", fmt.Errorf("must be one of %s", strings.Join(values, ", "))
	}
}

func pText(max int) queryParam {
	return func(v string) (string, error) {
		if v == "" || len(v) > max {
			return "", fmt.Errorf("must be 1 to %d characters", max)
		}
		return v, nil
	}
}

func pCountry(v string) (string, error) {
	u := strings.ToUpper(v)
	if len(u) != 2 || u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' || u[1] > 'Z' {
		return "", fmt.Errorf("must be an ISO 3166 alpha-2 code such as DE")
	}
	return u, nil
}

// pSize takes bytes as digits or with a unit (10GiB, 1.5TB).
func pSize(positive bool) queryParam {
	return func(v string) (string, error) {
		n, err := contract.ParseSize(v)
		if err != nil || (positive && n <= 0) {
			return "", fmt.Errorf("must be a byte count such as 1073741824 or 10GiB")
		}
		return strconv.FormatInt(n, 10), nil
	}
}

// pDuration takes seconds as digits or with a unit (30d, 12h, 1mo).
func pDuration(v string) (string, error) {
	n, err := contract.ParseDuration(v)
	if err != nil || n <= 0 {
		return "", fmt.Errorf("must be a positive duration such as 2592000 or 30d")
	}
	return strconv.FormatInt(n, 10), nil
}

func pAmount(v string) (string, error) {
	a, err := contract.ParseAmount(v)
	if err != nil {
		return "", fmt.Errorf("must be a decimal string of uflash: %v", err)
	}
	return a.String(), nil
}

func pIntRange(lo, hi int) queryParam {
	return func(v string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return "", fmt.Errorf("must be an integer from %d to %d", lo, hi)
		}
		return strconv.Itoa(n), nil
	}
}

func pBool(v string) (string, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return "", fmt.Errorf("must be true or false")
	}
	return strconv.FormatBool(b), nil
}

var (
	providersParams = map[string]queryParam{"limit": pLimit, "cursor": pCursor, "all": pBool}
	unitsParams     = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor,
		"region": pText(64), "country": pCountry, "kind": pEnum(contract.UnitKinds...),
		"status":   pEnum(contract.UnitAvailable, contract.UnitMaintenance, contract.UnitDecommissioning, contract.UnitDeleted),
		"provider": pAddress, "min_free": pSize(false), "max_price": pAmount, "min_score": pIntRange(0, 100),
		"sort": pEnum("id", "price", "score"),
	}
	reservationsParams = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor,
		"consumer": pAddress, "provider": pAddress, "unit": pPattern(unitIDPattern, "unit-1"),
		"status": pEnum(contract.ResPending, contract.ResActive, contract.ResCompleted, contract.ResCancelled, contract.ResRejected, contract.ResExpired),
	}
	epochRangeParams = map[string]queryParam{"from": pIntRange(0, 1<<53), "to": pIntRange(0, 1<<53)}
	accessKeysParams = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor,
		"reservation": pPattern(resIDPattern, "res-1"), "provider": pAddress,
	}
	quoteParams = map[string]queryParam{
		"bytes": pSize(true), "term": pDuration, "egress": pSize(false),
		"region": pText(64), "country": pCountry, "kind": pEnum(contract.UnitKinds...),
		"limit": pLimit,
	}
)

// checkQuery validates a list endpoint's query string against its table:
// unknown or repeated parameters and malformed values are 400 invalid_query
// (invalid_address for addresses), so a typo never silently widens a filter.
// It returns the canonical query string the contract reads.
func checkQuery(raw string, params map[string]queryParam, required []string) (string, contract.Code, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", contract.CodeInvalidQuery, fmt.Errorf("query string: %v", err)
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	out := url.Values{}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		check, ok := params[k]
		if !ok {
			return "", contract.CodeInvalidQuery, fmt.Errorf("unknown query parameter %q; this endpoint takes %s", k, strings.Join(names, ", "))
		}
		if len(q[k]) != 1 {
			return "", contract.CodeInvalidQuery, fmt.Errorf("query parameter %q is given %d times; give it once", k, len(q[k]))
		}
		v, err := check(q[k][0])
		if err != nil {
			code := contract.CodeInvalidQuery
			if k == "consumer" || k == "provider" {
				code = contract.CodeInvalidAddress
			}
			return "", code, fmt.Errorf("%s=%q %v", k, q[k][0], err)
		}
		out.Set(k, v)
	}
	for _, k := range required {
		if out.Get(k) == "" {
			return "", contract.CodeInvalidQuery, fmt.Errorf("query parameter %s is required", k)
		}
	}
	return out.Encode(), contract.CodeOK, nil
}

// list serves a market list endpoint: the query string is validated, then
// forwarded to the contract query path.
func (s *Server) list(path string, params map[string]queryParam, required ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		qs, code, err := checkQuery(r.URL.RawQuery, params, required)
		if err != nil {
			writeContractError(w, code, err.Error())
			return
		}
		full := path
		if qs != "" {
			full += "?" + qs
		}
		s.abciQuery(w, r, full)
	}
}

// accessKeys lists keys of one reservation (its consumer's view) or of one
// provider (its bridges' view); exactly one of the two filters is required.
func (s *Server) accessKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if (q.Get("reservation") == "") == (q.Get("provider") == "") {
		writeContractError(w, contract.CodeInvalidQuery, "give exactly one of reservation= or provider=")
		return
	}
	s.list("accesskeys", accessKeysParams)(w, r)
}

func (s *Server) unitQoS(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !unitIDPattern.MatchString(id) {
		writeContractError(w, contract.CodeNotFound, fmt.Sprintf("unit %q not found (unit ids look like unit-1)", id))
		return
	}
	s.list("units/"+id+"/qos", epochRangeParams)(w, r)
}

// addressed serves GET paths of the form PREFIX/{address}SUFFIX.
func (s *Server) addressed(w http.ResponseWriter, r *http.Request, prefix, suffix string) {
	addr, err := pAddress(r.PathValue("address"))
	if err != nil {
		writeContractError(w, contract.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	s.abciQuery(w, r, prefix+addr+suffix)
}

func (s *Server) providerScore(w http.ResponseWriter, r *http.Request) {
	s.addressed(w, r, "providers/", "/score")
}

func (s *Server) oracle(w http.ResponseWriter, r *http.Request) { s.addressed(w, r, "oracles/", "") }

func (s *Server) provider(w http.ResponseWriter, r *http.Request) {
	addr, err := pAddress(r.PathValue("address"))
	if err != nil {
		writeContractError(w, contract.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	s.abciQuery(w, r, "providers/"+addr)
}

// byID serves GET /v1/{collection}/{id}. An id that cannot exist is
// not_found, like an id that does not.
func (s *Server) byID(collection, what, prefix string, re *regexp.Regexp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !re.MatchString(id) {
			writeContractError(w, contract.CodeNotFound, fmt.Sprintf("%s %q not found (%s ids look like %s1)", what, id, what, prefix))
			return
		}
		s.abciQuery(w, r, collection+"/"+id)
	}
}
