package client

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/sealed"
)

// NewAccessKey makes an S3 key pair for a reservation: a 20-character id
// ("FB" + 18 random base32 characters), a 40-character secret, and the
// secret sealed to the bridge's public key (the only form that goes on
// chain).
func NewAccessKey(bridgePub []byte) (id, secret string, sealedSecret []byte, err error) {
	var idb [12]byte
	var sb [30]byte
	if _, err = rand.Read(idb[:]); err != nil {
		return
	}
	if _, err = rand.Read(sb[:]); err != nil {
		return
	}
	id = "FB" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(idb[:])[:18]
	secret = base64.RawStdEncoding.EncodeToString(sb[:])
	sealedSecret, err = sealed.Seal([]byte(secret), bridgePub)
	return
}

// CreatedKey is an access key just created; Secret is shown once.
type CreatedKey struct {
	AccessKeyID string          `json:"access_key_id"`
	Secret      string          `json:"secret_access_key"`
	Reservation string          `json:"reservation"`
	Perm        string          `json:"perm"`
	Endpoint    string          `json:"endpoint"`
	Tx          *types.TxResult `json:"tx"`
}

// CreateAccessKey makes a key for one of the signer's reservations: it looks
// up the reservation's provider to seal the secret to its bridge key, then
// submits the create message.
func (s *Signer) CreateAccessKey(ctx context.Context, reservation, perm string) (*CreatedKey, error) {
	var r types.ReservationView
	if err := s.c.do(ctx, http.MethodGet, "/v1/reservations/"+url.PathEscape(reservation), nil, &r); err != nil {
		return nil, err
	}
	var p types.ProviderView
	if err := s.c.do(ctx, http.MethodGet, "/v1/providers/"+url.PathEscape(r.Provider), nil, &p); err != nil {
		return nil, err
	}
	id, secret, sealedSecret, err := NewAccessKey(p.BridgePubKey)
	if err != nil {
		return nil, fmt.Errorf("make access key: %w", err)
	}
	res, err := s.Submit(ctx, &accesskey.MsgCreateAccessKey{Reservation: reservation, ID: id, Perm: perm, SealedSecret: sealedSecret})
	if err != nil {
		return nil, err
	}
	return &CreatedKey{AccessKeyID: id, Secret: secret, Reservation: reservation, Perm: perm, Endpoint: p.Endpoint, Tx: res}, nil
}

// AccessKeys lists keys by reservation or provider (one of them set).
func (c *Client) AccessKeys(ctx context.Context, reservation, provider, cursor string) (*types.AccessKeysPage, error) {
	q := url.Values{}
	if reservation != "" {
		q.Set("reservation", reservation)
	}
	if provider != "" {
		q.Set("provider", provider)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var page types.AccessKeysPage
	return &page, c.do(ctx, http.MethodGet, "/v1/accesskeys?"+q.Encode(), nil, &page)
}
