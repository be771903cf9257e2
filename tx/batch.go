package tx

import (
	"sync"

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

// KeyCache keeps public keys decompressed for batch verification (about a
// fifth of a batched verify's cost), so an account that sends often pays
// it once. Safe for concurrent use; it starts over when full.
type KeyCache struct {
	mu   sync.Mutex
	max  int
	keys map[[32]byte]*voi.ExpandedPublicKey
}

// NewKeyCache returns a cache of up to max keys.
func NewKeyCache(max int) *KeyCache {
	return &KeyCache{max: max, keys: make(map[[32]byte]*voi.ExpandedPublicKey)}
}

// expanded returns pub decompressed, nil if it is not a valid point.
func (c *KeyCache) expanded(pub []byte) *voi.ExpandedPublicKey {
	if len(pub) != 32 {
		return nil
	}
	k := [32]byte(pub)
	c.mu.Lock()
	e, ok := c.keys[k]
	c.mu.Unlock()
	if ok {
		return e
	}
	e, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		return nil
	}
	c.mu.Lock()
	if len(c.keys) >= c.max {
		clear(c.keys)
	}
	c.keys[k] = e
	c.mu.Unlock()
	return e
}

// VerifyBatch checks the signatures of ds together and returns each one's
// verdict, equal to ds[i].VerifySignature(). A batch with a bad signature
// costs a second pass that verifies one by one, so callers batch a few
// dozen txs, not a whole block. keys may be nil.
func VerifyBatch(ds []*Decoded, keys *KeyCache) []bool {
	if len(ds) == 0 {
		return nil
	}
	v := voi.NewBatchVerifierWithCapacity(len(ds))
	for _, d := range ds {
		var e *voi.ExpandedPublicKey
		if keys != nil {
			e = keys.expanded(d.Tx.PubKey)
		}
		if e != nil {
			v.AddExpandedWithOptions(e, SignBytes(d.Tx.Body), d.Tx.Signature, zip215)
		} else {
			v.AddWithOptions(voi.PublicKey(d.Tx.PubKey), SignBytes(d.Tx.Body), d.Tx.Signature, zip215)
		}
	}
	_, ok := v.Verify(nil)
	return ok
}
