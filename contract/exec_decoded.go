package contract

import (
	"fmt"

	"github.com/flashback-network/flashback/address"
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
	msgs      []Msg
	msgErr    error
	signer    []byte
	signerStr string
}

// PrepareTx decodes raw, checks its signature (unless sig says it was
// checked before) and decodes its messages.
func PrepareTx(raw []byte, sig SigCheck) *PreparedTx {
	d, err := tx.Decode(raw)
	if err != nil {
		return PrepareDecoded(nil, err, false)
	}
	return PrepareDecoded(d, nil, sig == SigAlreadyVerified || d.VerifySignature())
}

// PrepareDecoded prepares a tx the caller decoded (d, or the error of
// tx.Decode) and whose signature it checked (sigOK), for instance in a
// batch: it decodes the messages.
func PrepareDecoded(d *tx.Decoded, decodeErr error, sigOK bool) *PreparedTx {
	p := &PreparedTx{}
	if decodeErr != nil {
		code := CodeTxDecode
		if de, ok := decodeErr.(*tx.DecodeError); ok && de.Kind == tx.TooLarge {
			code = CodeTxTooLarge
		}
		p.decodeErr = Errf(code, "%v", decodeErr)
		return p
	}
	p.d = d
	p.sigOK = sigOK
	if !p.sigOK {
		return p
	}
	var err error
	p.msgs = make([]Msg, len(d.Body.Msgs))
	for i, m := range d.Body.Msgs {
		if p.msgs[i], err = DecodeMsg(m); err != nil {
			p.msgErr = fmt.Errorf("message %d: %w", i, err)
			return p
		}
	}
	p.signer = address.Raw(d.Tx.PubKey)
	p.signerStr = address.Encode(p.signer)
	return p
}

// Decoded is the decoded tx, nil when raw did not decode.
func (p *PreparedTx) Decoded() *tx.Decoded { return p.d }

// SignatureOK reports whether the tx decoded and its signature holds (or
// was taken as verified).
func (p *PreparedTx) SignatureOK() bool { return p.d != nil && p.sigOK }

// ExecPrepared is ExecTx for a prepared tx.
func ExecPrepared(kv KV, blk Block, p *PreparedTx, mode Mode) Result {
	if p.decodeErr != nil {
		return fail(p.decodeErr)
	}
	d := p.d
	if d.Body.ChainID != blk.ChainID {
		return fail(Errf(CodeWrongChainID, "tx is signed for chain %q, this chain is %q", d.Body.ChainID, blk.ChainID))
	}
	if !p.sigOK {
		return fail(Errf(CodeBadSignature, "signature does not match the body and pub_key (signed for another chain, sequence or key?)"))
	}
	if p.msgErr != nil {
		return fail(p.msgErr)
	}
	return execChecked(kv, blk, p, mode)
}
