package client

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/sealed"
	"golang.org/x/crypto/curve25519"
)

// DisputeFilter filters GET /v1/disputes. Zero fields do not filter.
type DisputeFilter struct {
	Page
	Reservation, Consumer, Provider, Status string
}

// Disputes lists disputes, one page.
func (c *Client) Disputes(ctx context.Context, f DisputeFilter) (*types.DisputesPage, error) {
	q := url.Values{}
	f.Page.set(q)
	for k, v := range map[string]string{"reservation": f.Reservation, "consumer": f.Consumer, "provider": f.Provider, "status": f.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var p types.DisputesPage
	return &p, c.do(ctx, http.MethodGet, withQuery("/v1/disputes", q), nil, &p)
}

// Dispute returns one dispute by id ("dsp-1").
func (c *Client) Dispute(ctx context.Context, id string) (*types.Dispute, error) {
	var d types.Dispute
	return &d, c.do(ctx, http.MethodGet, "/v1/disputes/"+url.PathEscape(id), nil, &d)
}

// DisputeAccount returns an account's dispute counts and seal key.
func (c *Client) DisputeAccount(ctx context.Context, addr string) (*types.DisputeAccount, error) {
	var a types.DisputeAccount
	return &a, c.do(ctx, http.MethodGet, "/v1/disputes/accounts/"+url.PathEscape(addr), nil, &a)
}

// DisputePanel returns who would hear a dispute on reservation opened now.
func (c *Client) DisputePanel(ctx context.Context, reservation string) (*types.DisputePanel, error) {
	var p types.DisputePanel
	return &p, c.do(ctx, http.MethodGet, "/v1/disputes/panel?reservation="+url.QueryEscape(reservation), nil, &p)
}

// DisputeStats returns the network's dispute totals.
func (c *Client) DisputeStats(ctx context.Context) (*types.DisputeStats, error) {
	var s types.DisputeStats
	return &s, c.do(ctx, http.MethodGet, "/v1/disputes/stats", nil, &s)
}

// OpenDisputeRequest is what a consumer disputes. Deposit 0 means the
// chain's dispute_deposit.
type OpenDisputeRequest struct {
	Reservation string
	Kind        string
	Deposit     core.Amount
	// Receipt (data_loss) is the receipt's wire form.
	Receipt string
	// Epochs (unavailable).
	Epochs []int64
	// Epoch and EgressBytes (egress): the consumer's own count.
	Epoch       int64
	EgressBytes uint64
}

// OpenedDispute is a dispute just opened.
type OpenedDispute struct {
	ID          string          `json:"id"`
	AccessKeyID string          `json:"access_key_id,omitempty"`
	Oracles     []string        `json:"oracles"`
	Tx          *types.TxResult `json:"tx"`
}

// OpenDispute opens a dispute. For data_loss it makes the dispute's read
// key: a fresh key pair whose secret it seals to the
// provider's bridge and to each oracle the panel query names (a panel
// drawn in a new epoch meanwhile makes the chain refuse it: call again).
func (s *Signer) OpenDispute(ctx context.Context, req OpenDisputeRequest) (*OpenedDispute, error) {
	if req.Deposit == 0 {
		p, err := s.c.Params(ctx)
		if err != nil {
			return nil, err
		}
		req.Deposit = p.DisputeDeposit
	}
	m := &dispute.MsgOpenDispute{Reservation: req.Reservation, Kind: req.Kind, Deposit: req.Deposit, Receipt: req.Receipt,
		Epochs: req.Epochs, Epoch: req.Epoch, EgressBytes: req.EgressBytes}
	out := &OpenedDispute{}
	if req.Kind == dispute.KindDataLoss {
		if err := s.sealDisputeKey(ctx, m, out); err != nil {
			return nil, err
		}
	}
	res, err := s.Submit(ctx, m)
	if err != nil {
		return nil, err
	}
	out.ID, out.Tx = EventAttr(res, "dispute_opened", "dispute"), res
	if out.ID == "" {
		return nil, fmt.Errorf("dispute tx %s has no dispute_opened event", res.Hash)
	}
	return out, nil
}

func (s *Signer) sealDisputeKey(ctx context.Context, m *dispute.MsgOpenDispute, out *OpenedDispute) error {
	r, err := s.c.Reservation(ctx, m.Reservation)
	if err != nil {
		return err
	}
	prov, err := s.c.Provider(ctx, r.Provider)
	if err != nil {
		return err
	}
	panel, err := s.c.DisputePanel(ctx, m.Reservation)
	if err != nil {
		return err
	}
	if len(panel.Oracles) == 0 {
		return fmt.Errorf("no oracle assigned to %s in epoch %d has a seal key: a dispute cannot be heard now; try next epoch", panel.Unit, panel.Epoch)
	}
	id, secret, bridgeSealed, err := NewAccessKey(prov.BridgePubKey)
	if err != nil {
		return fmt.Errorf("make dispute key: %w", err)
	}
	m.AccessKeyID, m.BridgeSecret = id, bridgeSealed
	for _, o := range panel.Oracles {
		sk, err := sealed.Seal([]byte(secret), o.SealKey)
		if err != nil {
			return fmt.Errorf("seal to oracle %s: %w", o.Oracle, err)
		}
		m.OracleSecrets = append(m.OracleSecrets, dispute.OracleSecret{Oracle: o.Oracle, SealedSecret: sk})
		out.Oracles = append(out.Oracles, o.Oracle)
	}
	out.AccessKeyID = id
	return nil
}

// DisputeVerdict submits the signing oracle's verdict.
func (s *Signer) DisputeVerdict(ctx context.Context, id, verdict, observed string) (*types.TxResult, error) {
	return s.Submit(ctx, &dispute.MsgVerdict{Dispute: id, Verdict: verdict, Observed: observed})
}

// RegisterSealKey registers the signing oracle's X25519 seal key.
func (s *Signer) RegisterSealKey(ctx context.Context, pub []byte) (*types.TxResult, error) {
	return s.Submit(ctx, &dispute.MsgSealKey{PubKey: pub})
}

// SetUnitDisputePolicy makes unit refuse consumers with max or more
// rejected disputes (0: no one).
func (s *Signer) SetUnitDisputePolicy(ctx context.Context, unit string, max uint64) (*types.TxResult, error) {
	return s.Submit(ctx, &dispute.MsgUnitPolicy{Unit: unit, MaxConsumerDisputes: max})
}

// SealKeyFor derives an oracle's X25519 seal key pair from its ed25519
// signing key (domain separated), so an oracle needs no second key file.
func SealKeyFor(priv ed25519.PrivateKey) (pub, sk *[sealed.KeySize]byte, err error) {
	h := sha256.Sum256(append([]byte("flashback/oracle-seal-key/v1\x00"), priv.Seed()...))
	sk = new([sealed.KeySize]byte)
	copy(sk[:], h[:])
	p, err := curve25519.X25519(sk[:], curve25519.Basepoint)
	if err != nil {
		return nil, nil, err
	}
	pub = new([sealed.KeySize]byte)
	copy(pub[:], p)
	return pub, sk, nil
}

// DisputeKey opens the dispute's read key for oracle (its seal key pair):
// the access key id and secret to read the reservation through the bridge.
func DisputeKey(d *types.Dispute, oracle string, pub, priv *[sealed.KeySize]byte) (id, secret string, err error) {
	for _, s := range d.Panel {
		if s.Oracle != oracle {
			continue
		}
		if len(s.SealedSecret) == 0 || d.AccessKeyID == "" {
			return "", "", fmt.Errorf("dispute %s has no read key", d.ID)
		}
		b, err := sealed.Open(s.SealedSecret, pub, priv)
		if err != nil {
			return "", "", fmt.Errorf("dispute %s: open the read key: %w", d.ID, err)
		}
		return d.AccessKeyID, string(b), nil
	}
	return "", "", fmt.Errorf("%s is not on the panel of dispute %s", oracle, d.ID)
}

// FormatEpochs is a dispute's epochs as text ("3,4,7").
func FormatEpochs(es []int64) string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += ","
		}
		s += strconv.FormatInt(e, 10)
	}
	return s
}
