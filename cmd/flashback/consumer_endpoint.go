package main

import (
	"context"
	"fmt"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
)

// A provider may move its bridge (`tx provider update --endpoint`): the
// endpoint stored beside an access key is only a fallback for when the
// chain cannot be asked. Every consumer command resolves it afresh, from
// the reservation's provider as the chain says now; the lookup is two small
// REST reads, cheaper than any transfer it precedes.

// bucketInfo is an opened bucket with what the chain said about its
// reservation (nil if the chain could not be asked).
type bucketInfo struct {
	*client.Bucket
	Res *types.ReservationView
	Key storedKey
}

// chainEndpoint returns reservation res and its provider's bridge endpoint
// as of the last block.
func (g *globals) chainEndpoint(ctx context.Context, res string) (*types.ReservationView, string, error) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := g.client()
	r, err := c.Reservation(qctx, res)
	if err != nil {
		return nil, "", err
	}
	p, err := c.Provider(qctx, r.Provider)
	if err != nil {
		return r, "", fmt.Errorf("provider %s of %s: %w", r.Provider, res, err)
	}
	return r, p.Endpoint, nil
}

// openStored opens res's bucket with a stored key at the endpoint the
// chain names now, updating the stored endpoint when it moved. If the
// chain cannot be asked (the node is down), the stored endpoint is used
// and a warning says so; a reservation the chain does not know is an
// error.
func (g *globals) openStored(ctx context.Context, res string, k storedKey) (*bucketInfo, error) {
	r, ep, err := g.chainEndpoint(ctx, res)
	switch {
	case err != nil && client.CodeOf(err) == "not_found":
		return nil, fmt.Errorf("reservation %s: %w", res, explain(err))
	case err != nil:
		g.note("warning: could not refresh the bridge endpoint of %s from the chain (%v); using the stored %s", res, explain(err), k.Endpoint)
		ep = k.Endpoint
	case ep != k.Endpoint:
		if k.Endpoint != "" {
			g.note("the bridge of %s moved: %s → %s (from the chain)", res, k.Endpoint, ep)
		}
		k.Endpoint = ep
		if err := g.saveS3Key(res, k); err != nil {
			return nil, err
		}
	}
	b := client.NewBucket(ep, res, k.AccessKeyID, k.Secret)
	if justMade(k) {
		// A key stored by `tx accesskey create` a moment ago: the bridge
		// learns it within a block or two.
		if err := b.WaitReady(ctx, 20*time.Second); err != nil {
			return nil, s3Explain(err, b, "")
		}
	}
	return &bucketInfo{Bucket: b, Res: r, Key: k}, nil
}

// justMade says whether a stored key was created in the last two minutes.
func justMade(k storedKey) bool {
	t, err := time.Parse(time.RFC3339, k.CreatedAt)
	return err == nil && time.Since(t) < 2*time.Minute
}
