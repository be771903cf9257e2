// Broadcasting txs and reading their results.

package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/tx"
)

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
		writeContractError(w, core.CodeTxTooLarge, fmt.Sprintf("request is over %d bytes", maxRequestBody))
		return nil, false
	}
	return body, true
}

func (s *Server) postTx(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req types.TxRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "body must be JSON {\"tx\": \"<base64 signed tx>\"}: "+err.Error())
		return
	}
	if len(req.Tx) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request", "tx is empty")
		return
	}
	raw := cmttypes.Tx(req.Tx)
	res, err := s.node.BroadcastTxSync(r.Context(), raw)
	switch {
	case err != nil && strings.Contains(err.Error(), "tx already exists in cache"):
		// The same bytes again (a client retrying after a timeout): answer
		// as for the first submission, with its result once committed.
		s.answerResubmitted(w, r, raw.Hash(), req.Wait)
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	case res.Code == uint32(core.CodeBadSequence):
		// Its sequence is used: by this very tx, if it was committed.
		if tr, terr := s.node.Tx(r.Context(), raw.Hash(), false); terr == nil {
			writeJSON(w, http.StatusOK, txResult(tr))
			return
		}
		writeContractError(w, core.Code(res.Code), res.Log)
		return
	case res.Code != 0:
		writeContractError(w, core.Code(res.Code), res.Log)
		return
	}
	s.awaitCommit(w, r, res.Hash, req.Wait)
}

// answerResubmitted answers a tx the mempool already holds or held: its
// committed result, or (still pending) as a first submission would.
func (s *Server) answerResubmitted(w http.ResponseWriter, r *http.Request, hash []byte, wait *bool) {
	if tr, err := s.node.Tx(r.Context(), hash, false); err == nil {
		writeJSON(w, http.StatusOK, txResult(tr))
		return
	}
	s.awaitCommit(w, r, hash, wait)
}

// awaitCommit answers 202 for wait=false, else the tx's result once it is
// committed (504 after CommitTimeout).
func (s *Server) awaitCommit(w http.ResponseWriter, r *http.Request, txHash []byte, wait *bool) {
	hash := strings.ToUpper(hex.EncodeToString(txHash))
	if wait != nil && !*wait {
		writeJSON(w, http.StatusAccepted, types.TxResult{Hash: hash, Code: 0, CodeName: "ok"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.CommitTimeout)
	defer cancel()
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 250*time.Millisecond) {
		tr, err := s.node.Tx(ctx, txHash, false)
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

func txResult(tr *ctypes.ResultTx) types.TxResult {
	code := core.Code(tr.TxResult.Code)
	return types.TxResult{
		Hash:     strings.ToUpper(hex.EncodeToString(tr.Hash)),
		Height:   tr.Height,
		Code:     tr.TxResult.Code,
		CodeName: code.Name(),
		Log:      tr.TxResult.Log,
		Events:   fromABCI(tr.TxResult.Events),
	}
}

func fromABCI(evs []abci.Event) []core.Event {
	out := make([]core.Event, 0, len(evs))
	for _, e := range evs {
		ce := core.Event{Type: e.Type, Attrs: []core.Attr{}}
		for _, a := range e.Attributes {
			ce.Attrs = append(ce.Attrs, core.Attr{Key: a.Key, Value: a.Value})
		}
		out = append(out, ce)
	}
	return out
}
