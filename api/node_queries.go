// Node status, blocks and accounts.

package api

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// healthz answers 200 while the process runs and its block execution has
// not failed (a failed node never commits again, so it is not alive).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	if s.answeredFailure(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "height": st.SyncInfo.LatestBlockHeight, "catching_up": st.SyncInfo.CatchingUp})
}

// answeredFailure answers 503 node_failed, and reports true, once the
// node's block execution has stopped.
func (s *Server) answeredFailure(w http.ResponseWriter) bool {
	if s.Failure == nil {
		return false
	}
	ferr := s.Failure()
	if ferr != nil {
		writeError(w, http.StatusServiceUnavailable, "node_failed", "block execution stopped: "+ferr.Error())
	}
	return ferr != nil
}

// readyz answers 200 only when the node can serve current state: it is
// not catching up, its block execution has not failed, and (with
// MaxBlockAge) its latest block is recent.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	if s.answeredFailure(w) {
		return
	}
	if st.SyncInfo.CatchingUp {
		writeError(w, http.StatusServiceUnavailable, "catching_up", fmt.Sprintf("catching up: at height %d", st.SyncInfo.LatestBlockHeight))
		return
	}
	if age := time.Since(st.SyncInfo.LatestBlockTime); s.MaxBlockAge > 0 && age > s.MaxBlockAge {
		writeError(w, http.StatusServiceUnavailable, "stalled", fmt.Sprintf("the latest block (height %d) is %s old, more than %s: consensus is not progressing",
			st.SyncInfo.LatestBlockHeight, age.Round(time.Second), s.MaxBlockAge))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "height": st.SyncInfo.LatestBlockHeight, "catching_up": false})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, types.Status{
		ChainID:         st.NodeInfo.Network,
		NodeID:          string(st.NodeInfo.DefaultNodeID),
		Moniker:         st.NodeInfo.Moniker,
		Height:          st.SyncInfo.LatestBlockHeight,
		AppHash:         hex.EncodeToString(st.SyncInfo.LatestAppHash),
		LatestBlockTime: st.SyncInfo.LatestBlockTime.UTC(),
		CatchingUp:      st.SyncInfo.CatchingUp,
	})
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
	writeJSON(w, http.StatusOK, types.Block{
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
		writeContractError(w, core.Code(res.Response.Code), res.Response.Log)
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
		writeContractError(w, core.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	s.abciQuery(w, r, "account/"+addr)
}
