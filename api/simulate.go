// Simulating a signed tx: POST /v1/txs/simulate.

package api

import (
	"encoding/json"
	"net/http"

	"github.com/flashback-network/flashback/contract/core"
)

// simulatePath is chain.SimulatePath (api does not import chain).
const simulatePath = "/simulate"

// postSimulate runs a signed tx on the node's committed state without
// broadcasting it: a tx that would fail is answered 200 with its code, so a
// client can tell "would fail" (the result) from "could not ask" (an error).
func (s *Server) postSimulate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Tx []byte `json:"tx"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "body must be JSON {\"tx\": \"<base64 signed tx>\"}: "+err.Error())
		return
	}
	if len(req.Tx) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "tx is empty")
		return
	}
	res, err := s.node.ABCIQuery(r.Context(), simulatePath, req.Tx)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	if res.Response.Code != 0 {
		writeContractError(w, core.Code(res.Response.Code), res.Response.Log)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Response.Value)
	_, _ = w.Write([]byte("\n"))
}
