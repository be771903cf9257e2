package contract

import (
	"fmt"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// SigCheck says whether PrepareTx verifies the tx signature.
type SigCheck int

const (
	// VerifySig verifies the signature.
	VerifySig SigCheck = iota
	// SigAlreadyVerified skips verification: the caller verified these
	// exact bytes before (CheckTx in recheck mode). A tx's hash covers its
	// signature and key, so the same bytes always verify the same way.
	SigAlreadyVerified
)

// PreparedTx is a tx after the work that reads no state: decoding, the
// signature check and message decoding. Preparing touches nothing shared,
// so a block's txs can be prepared in parallel and executed in order; the
// results are those of ExecTx, failures included, in ExecTx's order of checks.
type PreparedTx struct {
	d         *tx.Decoded
	decodeErr error
	sigOK     bool
	msgs      []core.Msg
	msgErr    error
	signer    []byte
	// signerAddr is signer in bech32, encoded while preparing so the
	// sequential part of a block does not encode it.
	signerAddr string
}

// PrepareTx decodes raw, checks its signature (unless sig says it was
// checked before) and decodes its messages, with the default app.
func PrepareTx(raw []byte, sig SigCheck) *PreparedTx { return defaultApp().PrepareTx(raw, sig) }

// PrepareDecoded prepares a tx the caller decoded (d, or the error of
// tx.Decode) and whose signature it checked (sigOK), with the default app.
func PrepareDecoded(d *tx.Decoded, decodeErr error, sigOK bool) *PreparedTx {
	return defaultApp().PrepareDecoded(d, decodeErr, sigOK)
}

// ExecPrepared is ExecTx for a prepared tx, with the default app.
func ExecPrepared(kv store.KV, blk core.Block, p *PreparedTx, mode Mode) Result {
	return defaultApp().ExecPrepared(kv, blk, p, mode)
}

// PrepareTx decodes raw and prepares it (see the package-level PrepareTx).
func (a *App) PrepareTx(raw []byte, sig SigCheck) *PreparedTx {
	d, err := tx.Decode(raw)
	if err != nil {
		return a.PrepareDecoded(nil, err, false)
	}
	return a.PrepareDecoded(d, nil, sig == SigAlreadyVerified || d.VerifySignature())
}

// PrepareDecoded decodes the messages of a tx whose signature the caller
// checked (for instance in a batch).
func (a *App) PrepareDecoded(d *tx.Decoded, decodeErr error, sigOK bool) *PreparedTx {
	p := &PreparedTx{}
	if decodeErr != nil {
		code := core.CodeTxDecode
		if de, ok := decodeErr.(*tx.DecodeError); ok && de.Kind == tx.TooLarge {
			code = core.CodeTxTooLarge
		}
		p.decodeErr = core.Errf(code, "%v", decodeErr)
		return p
	}
	p.d, p.sigOK = d, sigOK
	if !sigOK {
		return p
	}
	p.msgs = make([]core.Msg, len(d.Body.Msgs))
	for i, m := range d.Body.Msgs {
		var err error
		if p.msgs[i], err = a.DecodeMsg(m); err != nil {
			p.msgErr = fmt.Errorf("message %d: %w", i, err)
			return p
		}
	}
	p.signer = address.Raw(d.Tx.PubKey)
	p.signerAddr = address.Encode(p.signer)
	return p
}

// Decoded is the decoded tx, nil when raw did not decode.
func (p *PreparedTx) Decoded() *tx.Decoded { return p.d }

// SignatureOK reports whether the tx decoded and its signature holds (or
// was taken as verified).
func (p *PreparedTx) SignatureOK() bool { return p.d != nil && p.sigOK }

// ExecPrepared checks and (in Deliver mode) executes a prepared tx: the
// checks in ExecTx's order (decoding, chain id, signature, messages), then
// the ante (sequence, fee) and the messages.
func (a *App) ExecPrepared(kv store.KV, blk core.Block, p *PreparedTx, mode Mode) Result {
	if p.decodeErr != nil {
		return fail(p.decodeErr)
	}
	d := p.d
	if d.Body.ChainID != blk.ChainID {
		return fail(core.Errf(core.CodeWrongChainID, "tx is signed for chain %q, this chain is %q", d.Body.ChainID, blk.ChainID))
	}
	if !p.sigOK {
		return fail(core.Errf(core.CodeBadSignature, "signature does not match the body and pub_key (signed for another chain, sequence or key?)"))
	}
	if p.msgErr != nil {
		return fail(p.msgErr)
	}
	res, err := a.ante(kv, d, p.signer, p.signerAddr)
	if err != nil || mode == Check {
		return res
	}
	cache := store.NewCache(kv)
	ctx := &core.Context{KV: cache, Block: blk, Signer: p.signerAddr}
	for i, m := range p.msgs {
		if err := a.Handle(ctx, p.signer, m); err != nil {
			res.Code = core.CodeOf(err)
			res.Log = fmt.Sprintf("message %d (%s): %v", i, d.Body.Msgs[i].Type, err)
			return res
		}
	}
	cache.Write()
	res.Events = append(res.Events, ctx.Events()...)
	return res
}

// Handle applies one message for signer through the handler table, as a
// tx's messages are applied (benchmarks and tests that build state without
// signing use it). On error the caller drops the writes made through ctx.
func (a *App) Handle(ctx *core.Context, signer []byte, m core.Msg) error {
	route, ok := a.routes[m.Type()]
	if !ok {
		return core.Errf(core.CodeUnknownMessage, "unknown message type %q", m.Type())
	}
	return route.Handle(ctx, signer, m)
}
