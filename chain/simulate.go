package chain

// Simulation: a signed tx run as if it were the next tx of a block, on a
// throwaway cache over the last committed state. The cache is dropped, so
// nothing reaches committed state, the mempool's check state or the app
// hash; the contract runs exactly as in a block (Deliver mode), which keeps
// it the single source of the rules the CLI pre-checks with.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// SimulatePath is the ABCI query path of a simulation; the query's data is
// the signed tx bytes.
const SimulatePath = "/simulate"

// isSimulate reports whether an ABCI query path asks for a simulation.
func isSimulate(path string) bool { return path == SimulatePath || path == "simulate" }

// Simulate runs raw against a throwaway branch of the committed state.
func (a *App) Simulate(raw []byte) (types.SimulateResult, error) {
	a.mu.Lock()
	kv, err := a.store.Committed()
	height := a.store.Version()
	blk := a.nextBlock()
	a.mu.Unlock()
	if err != nil {
		return types.SimulateResult{}, err
	}
	branch := store.NewCache(kv)
	res := contract.ExecTx(branch, blk, raw, contract.Deliver)
	out := types.SimulateResult{
		Height: height, Code: uint32(res.Code), CodeName: res.Code.Name(), Log: res.Log,
		Events: res.Events, Signer: res.Signer,
	}
	if out.Events == nil {
		out.Events = []core.Event{}
	}
	if len(raw) <= tx.MaxTxBytes {
		h := tx.Hash(raw)
		out.Hash = strings.ToUpper(hex.EncodeToString(h[:]))
	}
	for _, e := range res.Events {
		if e.Type != "tx" {
			continue
		}
		for _, at := range e.Attrs {
			if at.Key == "fee" {
				out.Fee, _ = core.ParseAmount(at.Value)
			}
		}
	}
	if res.Signer != "" {
		if signer, err := address.Parse(res.Signer); err == nil {
			out.BalanceBefore = bank.GetAccount(kv, signer).Balance
			out.BalanceAfter = bank.GetAccount(branch, signer).Balance
		}
	}
	branch.Discard()
	return out, nil
}

// simulateQuery answers the ABCI query SimulatePath.
func (a *App) simulateQuery(req *abci.RequestQuery) (resp *abci.ResponseQuery) {
	defer func() {
		if v := recover(); v != nil {
			resp = &abci.ResponseQuery{Code: uint32(core.CodeInternal), Codespace: core.Codespace, Log: fmt.Sprint("simulate: ", v)}
		}
	}()
	if a.Height() == 0 {
		return &abci.ResponseQuery{Code: uint32(core.CodeWrongState), Codespace: core.Codespace,
			Log: "the chain has not committed its first block yet; simulate again in a moment"}
	}
	out, err := a.Simulate(req.Data)
	if err != nil {
		return &abci.ResponseQuery{Code: uint32(core.CodeInternal), Codespace: core.Codespace, Log: err.Error()}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return &abci.ResponseQuery{Code: uint32(core.CodeInternal), Codespace: core.Codespace, Log: err.Error()}
	}
	return &abci.ResponseQuery{Value: b, Height: out.Height}
}

// Height is the last committed height.
func (a *App) Height() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.store.Version()
}
