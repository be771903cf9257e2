package dispute

import (
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/sealed"
)

// maxSealedSecret is generous for an anonymous box of a short secret.
const maxSealedSecret = 256

// OracleSecret is the dispute key's secret sealed to one oracle's seal key.
type OracleSecret struct {
	Oracle       string `json:"oracle"`
	SealedSecret []byte `json:"sealed_secret"`
}

// MsgOpenDispute opens a dispute on one of the signer's reservations.
type MsgOpenDispute struct {
	Reservation string      `json:"reservation"`
	Kind        string      `json:"kind"`
	Deposit     core.Amount `json:"deposit"`
	// Receipt is the wire form of the bridge's receipt (data_loss).
	Receipt string `json:"receipt,omitempty"`
	// Epochs the data could not be reached (unavailable).
	Epochs []int64 `json:"epochs,omitempty"`
	// Epoch and EgressBytes: the consumer's egress count (egress).
	Epoch       int64  `json:"epoch,omitempty"`
	EgressBytes uint64 `json:"egress_bytes,omitempty"`
	// The dispute's read key: its id, its secret sealed to the bridge, and
	// sealed to each oracle of the panel (required for data_loss).
	AccessKeyID   string         `json:"access_key_id,omitempty"`
	BridgeSecret  []byte         `json:"bridge_secret,omitempty"`
	OracleSecrets []OracleSecret `json:"oracle_secrets,omitempty"`

	resN uint64
	rc   *receipt.Receipt
}

func (m *MsgOpenDispute) ValidateBasic() error {
	n, err := market.ParseResID(m.Reservation)
	if err != nil {
		return err
	}
	m.resN = n
	if m.Deposit == 0 {
		return core.Errf(core.CodeInvalidAmount, "deposit must be positive (at least the dispute_deposit param, GET /v1/params)")
	}
	switch m.Kind {
	case KindDataLoss:
		if m.Receipt == "" {
			return core.Errf(core.CodeInvalidMessage, "a data_loss dispute carries the receipt of the object (the x-flashback-receipt header the bridge returned)")
		}
		if m.rc, err = receipt.Decode(m.Receipt); err != nil {
			return core.Errf(core.CodeBadReceipt, "%v", err)
		}
		if m.AccessKeyID == "" {
			return core.Errf(core.CodeInvalidMessage, "a data_loss dispute needs a read key (access_key_id, bridge_secret, oracle_secrets) for the oracles to fetch the object")
		}
	case KindUnavailable:
		if len(m.Epochs) == 0 || len(m.Epochs) > MaxEpochs {
			return core.Errf(core.CodeInvalidMessage, "an unavailable dispute names 1 to %d epochs, not %d", MaxEpochs, len(m.Epochs))
		}
		for i, e := range m.Epochs {
			if e < 0 || (i > 0 && e <= m.Epochs[i-1]) {
				return core.Errf(core.CodeInvalidMessage, "epochs must be non-negative and strictly increasing (epochs[%d] = %d)", i, e)
			}
		}
	case KindEgress:
		if m.Epoch < 0 {
			return core.Errf(core.CodeInvalidMessage, "epoch must not be negative")
		}
	default:
		return core.Errf(core.CodeInvalidMessage, "kind %q: want data_loss, unavailable or egress", m.Kind)
	}
	if m.Kind != KindDataLoss && m.Receipt != "" {
		return core.Errf(core.CodeInvalidMessage, "receipt is for data_loss disputes only")
	}
	return m.validateKey()
}

func (m *MsgOpenDispute) validateKey() error {
	if m.AccessKeyID == "" {
		if len(m.BridgeSecret) != 0 || len(m.OracleSecrets) != 0 {
			return core.Errf(core.CodeInvalidMessage, "bridge_secret and oracle_secrets come with an access_key_id")
		}
		return nil
	}
	if !validKeyID(m.AccessKeyID) {
		return core.Errf(core.CodeInvalidMessage, "access_key_id %q: want 16-32 characters of A-Z and 0-9", m.AccessKeyID)
	}
	if len(m.BridgeSecret) < 48 || len(m.BridgeSecret) > maxSealedSecret {
		return core.Errf(core.CodeInvalidMessage, "bridge_secret is %d bytes: want the secret sealed to the bridge key (48-%d bytes); never send a plaintext secret", len(m.BridgeSecret), maxSealedSecret)
	}
	if len(m.OracleSecrets) == 0 || len(m.OracleSecrets) > MaxPanel {
		return core.Errf(core.CodeInvalidMessage, "oracle_secrets: want one per assigned oracle with a seal key (1 to %d), got %d", MaxPanel, len(m.OracleSecrets))
	}
	seen := map[string]bool{}
	for i, s := range m.OracleSecrets {
		if !address.Valid(s.Oracle) {
			return core.Errf(core.CodeInvalidAddress, "oracle_secrets[%d].oracle %q is not an address", i, s.Oracle)
		}
		if seen[s.Oracle] {
			return core.Errf(core.CodeInvalidMessage, "oracle_secrets[%d]: oracle %s is listed twice", i, s.Oracle)
		}
		seen[s.Oracle] = true
		if len(s.SealedSecret) < 48 || len(s.SealedSecret) > maxSealedSecret {
			return core.Errf(core.CodeInvalidMessage, "oracle_secrets[%d].sealed_secret is %d bytes: want the secret sealed to the oracle's seal key (48-%d bytes)", i, len(s.SealedSecret), maxSealedSecret)
		}
	}
	return nil
}

func validKeyID(s string) bool {
	if len(s) < 16 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// MsgVerdict is an assigned oracle's verdict on a dispute.
type MsgVerdict struct {
	Dispute string `json:"dispute"`
	Verdict string `json:"verdict"`
	// Observed is what the oracle saw: the content hash it computed
	// ("sha256:…"), "404", a probe summary.
	Observed string `json:"observed"`

	n uint64
}

func (m *MsgVerdict) ValidateBasic() error {
	n, err := ParseID(m.Dispute)
	if err != nil {
		return err
	}
	m.n = n
	switch m.Verdict {
	case VerdictUpheld, VerdictRejected, VerdictCannotTell:
	default:
		return core.Errf(core.CodeInvalidMessage, "verdict %q: want upheld, rejected or cannot_tell", m.Verdict)
	}
	if len(m.Observed) > MaxObserved {
		return core.Errf(core.CodeInvalidMessage, "observed is %d bytes, at most %d", len(m.Observed), MaxObserved)
	}
	return nil
}

// MsgSealKey registers (or replaces) the signing oracle's X25519 seal key,
// to which consumers seal dispute read keys.
type MsgSealKey struct {
	PubKey []byte `json:"pub_key"`
}

func (m *MsgSealKey) ValidateBasic() error {
	if len(m.PubKey) != sealed.KeySize {
		return core.Errf(core.CodeInvalidMessage, "pub_key is %d bytes, want a %d-byte X25519 public key", len(m.PubKey), sealed.KeySize)
	}
	return nil
}

// MsgUnitPolicy sets a unit's dispute policy: it refuses new reservations
// from consumers with at least MaxConsumerDisputes disputes that were not
// upheld (0: refuses no one).
type MsgUnitPolicy struct {
	Unit                string `json:"unit"`
	MaxConsumerDisputes uint64 `json:"max_consumer_disputes"`

	unitN uint64
}

func (m *MsgUnitPolicy) ValidateBasic() error {
	n, err := market.ParseUnitID(m.Unit)
	if err != nil {
		return err
	}
	m.unitN = n
	return nil
}

// Type is the wire name of MsgOpenDispute.
func (*MsgOpenDispute) Type() string { return "dispute/open" }

// Type is the wire name of MsgVerdict.
func (*MsgVerdict) Type() string { return "dispute/verdict" }

// Type is the wire name of MsgSealKey.
func (*MsgSealKey) Type() string { return "dispute/seal_key" }

// Type is the wire name of MsgUnitPolicy.
func (*MsgUnitPolicy) Type() string { return "dispute/unit_policy" }

const idPrefix = "dsp-"

// IDString is the id of dispute n.
func IDString(n uint64) string { return idPrefix + strconv.FormatUint(n, 10) }

// ParseID reads n of a dispute id "dsp-n".
func ParseID(s string) (uint64, error) {
	d, ok := strings.CutPrefix(s, idPrefix)
	n, err := strconv.ParseUint(d, 10, 64)
	if !ok || err != nil || n == 0 || (len(d) > 1 && d[0] == '0') {
		return 0, core.Errf(core.CodeInvalidMessage, "dispute id %q must look like dsp-1", s)
	}
	return n, nil
}
