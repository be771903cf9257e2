package tx

import (
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Signatures are checked by the ZIP-215 rules (cofactored verification,
// as CometBFT checks votes), because under them one signature's verdict is
// the same whether it is verified alone or in a batch, and batches verify
// in about 60 % of the time. Every signature crypto/ed25519 accepts is
// accepted; ZIP-215 also accepts a few crafted ones (small-order and
// non-canonical points) that crypto/ed25519 rejects, which gives a third
// party no way to alter an honest signature.
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

// VerifyBatch checks the signatures of ds together and returns each one's
// verdict, equal to ds[i].VerifySignature(). A batch with a bad signature
// costs a second pass that verifies one by one, so callers batch a few
// dozen txs, not a whole block.
func VerifyBatch(ds []*Decoded) []bool {
	if len(ds) == 0 {
		return nil
	}
	v := voi.NewBatchVerifierWithCapacity(len(ds))
	for _, d := range ds {
		v.AddWithOptions(voi.PublicKey(d.Tx.PubKey), SignBytes(d.Tx.Body), d.Tx.Signature, zip215)
	}
	_, ok := v.Verify(nil)
	return ok
}
