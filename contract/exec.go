package contract

import (
	"strconv"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// Mode says whether a tx is being checked for the mempool or executed in a
// block. Check runs only the ante checks (and applies sequence and fee to
// the check state so that a signer can queue several txs).
type Mode int

const (
	Check Mode = iota
	Deliver
)

// Result is the outcome of one tx.
type Result struct {
	Code   core.Code
	Log    string
	Events []core.Event
	Signer string
}

func fail(err error) Result {
	return Result{Code: core.CodeOf(err), Log: err.Error()}
}

// ExecTx checks and (in Deliver mode) executes a raw tx against kv with the
// default app. Ante effects (sequence, fee) are written to kv when the ante
// checks pass; message effects only when every message succeeds.
func ExecTx(kv store.KV, blk core.Block, raw []byte, mode Mode) Result {
	return defaultApp().ExecTx(kv, blk, raw, mode)
}

// ExecDecoded is ExecTx for a tx the caller has already decoded with
// tx.Decode. sigVerified says the caller has already checked d's signature
// (d.VerifySignature() returned true, e.g. in a parallel pre-pass over the
// block); ExecDecoded then skips that check and is otherwise identical.
func ExecDecoded(kv store.KV, blk core.Block, d *tx.Decoded, mode Mode, sigVerified bool) Result {
	return defaultApp().ExecDecoded(kv, blk, d, mode, sigVerified)
}

// ExecTx decodes raw and runs it (see the package-level ExecTx).
func (a *App) ExecTx(kv store.KV, blk core.Block, raw []byte, mode Mode) Result {
	return a.ExecPrepared(kv, blk, a.PrepareTx(raw, VerifySig), mode)
}

// ExecDecoded runs a decoded tx (see the package-level ExecDecoded).
func (a *App) ExecDecoded(kv store.KV, blk core.Block, d *tx.Decoded, mode Mode, sigVerified bool) Result {
	return a.ExecPrepared(kv, blk, a.PrepareDecoded(d, nil, sigVerified || d.VerifySignature()), mode)
}

// ante checks the sequence and the fee and, when they pass, writes both to
// kv: the fee is paid even if a message then fails.
func (a *App) ante(kv store.KV, d *tx.Decoded, signer []byte, signerStr string) (Result, error) {
	acc := bank.GetAccount(kv, signer)
	switch {
	case d.Body.Sequence < acc.Sequence:
		err := core.Errf(core.CodeBadSequence, "sequence %d was already used; account %s is at sequence %d", d.Body.Sequence, signerStr, acc.Sequence)
		return fail(err), err
	case d.Body.Sequence > acc.Sequence:
		err := core.Errf(core.CodeBadSequence, "sequence %d is ahead; account %s is at sequence %d", d.Body.Sequence, signerStr, acc.Sequence)
		return fail(err), err
	}
	fee, _ := core.ParseAmount(d.Body.Fee) // shape checked by tx.Decode
	if minFee := params.Get(kv).TxFee; fee < minFee {
		err := core.Errf(core.CodeInsufficientFee, "fee %d%s is below the minimum tx fee %d%s", fee, core.Denom, minFee, core.Denom)
		return fail(err), err
	}
	if acc.Balance < fee {
		err := core.Errf(core.CodeInsufficientFunds, "account %s has %d%s, cannot pay the %d%s fee", signerStr, acc.Balance, core.Denom, fee, core.Denom)
		return fail(err), err
	}
	acc.Balance -= fee
	acc.Sequence++
	bank.SetAccount(kv, signer, acc)
	if err := bank.AddPool(kv, bank.PoolFees, fee); err != nil {
		return fail(err), err
	}
	return Result{Signer: signerStr, Events: []core.Event{{Type: "tx", Attrs: []core.Attr{
		{Key: "signer", Value: signerStr},
		{Key: "sequence", Value: strconv.FormatUint(d.Body.Sequence, 10)},
		{Key: "fee", Value: fee.String()},
	}}}}, nil
}
