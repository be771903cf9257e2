package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/flashback-network/flashback/contract"
)

// ProviderChanges is what blocks since+1..Height changed for a provider:
// ids of its reservations and access keys to fetch again. Gap means the
// node cannot say; list everything, then ask again from Height.
type ProviderChanges struct {
	Provider     string   `json:"provider"`
	Since        int64    `json:"since"`
	Height       int64    `json:"height"`
	Gap          bool     `json:"gap"`
	Reservations []string `json:"reservations"`
	AccessKeys   []string `json:"access_keys"`
}

// ProviderChanges asks which of the provider's reservations and access keys
// changed after height since (0: none seen yet, which answers Gap).
func (c *Client) ProviderChanges(ctx context.Context, provider string, since int64) (*ProviderChanges, error) {
	var ch ProviderChanges
	path := fmt.Sprintf("/v1/providers/%s/changes?since=%d", url.PathEscape(provider), since)
	return &ch, c.do(ctx, http.MethodGet, path, nil, &ch)
}

// AccessKey returns one access key; a revoked key is a not_found error.
func (c *Client) AccessKey(ctx context.Context, id string) (*contract.AccessKey, error) {
	var k contract.AccessKey
	return &k, c.do(ctx, http.MethodGet, "/v1/accesskeys/"+url.PathEscape(id), nil, &k)
}
