package oracle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/sealed"
)

// Disputes re-checks the disputes whose panel the oracle sits on and gives
// its verdicts:
//
//   - data_loss: it opens the dispute's read key (sealed to its seal key),
//     fetches the object through the provider's bridge and compares the
//     content hash with the receipt's: 404 or other bytes uphold, the same
//     bytes reject; when the bridge keeps refusing or failing until the
//     window is nearly over, it cannot tell;
//   - unavailable: see checkUnavailable;
//   - egress: an oracle has no evidence of a consumer's egress: cannot_tell.
//
// Its seal key is derived from the oracle's signing key (client.SealKeyFor)
// and registered on chain when missing.
type Disputes struct {
	Client *client.Client
	Signer *client.Signer
	pub    *[sealed.KeySize]byte
	priv   *[sealed.KeySize]byte
	// Interval is how often open disputes are listed (default 1 s).
	Interval time.Duration
	// Retry is how long a failing fetch is retried before the verdict is
	// cannot_tell, bounded by the window (default 20 s).
	Retry time.Duration
	// Probe runs targeted probes of a unit (unavailable disputes); nil: none.
	Probe func(ctx context.Context, unit string) (ok bool, summary string)
	// Endpoint finds a provider's bridge S3 endpoint (default: its
	// bridge_endpoint on chain).
	Endpoint func(ctx context.Context, provider string) (string, error)
	Log      func(format string, args ...any)
	done     map[string]bool
}

// NewDisputes is the dispute checker of the oracle with signing key priv.
func NewDisputes(c *client.Client, s *client.Signer, priv ed25519.PrivateKey) (*Disputes, error) {
	pub, sk, err := client.SealKeyFor(priv)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return &Disputes{Client: c, Signer: s, pub: pub, priv: sk, done: map[string]bool{}}, nil
}

func (w *Disputes) logf(format string, args ...any) {
	if w.Log != nil {
		w.Log(format, args...)
	}
}

// EnsureSealKey registers the oracle's seal key unless the chain has it.
func (w *Disputes) EnsureSealKey(ctx context.Context) error {
	a, err := w.Client.DisputeAccount(ctx, w.Signer.Address())
	if err != nil {
		return err
	}
	if bytes.Equal(a.SealKey, w.pub[:]) {
		return nil
	}
	if _, err := w.Signer.RegisterSealKey(ctx, w.pub[:]); err != nil {
		return fmt.Errorf("register seal key: %w", err)
	}
	w.logf("registered seal key for disputes")
	return nil
}

// Run checks disputes until ctx ends.
func (w *Disputes) Run(ctx context.Context) {
	interval := w.Interval
	if interval <= 0 {
		interval = time.Second
	}
	registered := false
	for {
		if !registered {
			if err := w.EnsureSealKey(ctx); err != nil {
				w.logf("disputes: %v", err)
			} else {
				registered = true
			}
		}
		if n, err := w.Once(ctx); err != nil && ctx.Err() == nil {
			w.logf("disputes: %v", err)
		} else if n > 0 {
			w.logf("disputes: gave %d verdicts", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Once checks every open dispute the oracle sits on and has not judged
// yet, and returns how many verdicts it gave.
func (w *Disputes) Once(ctx context.Context) (int, error) {
	me := w.Signer.Address()
	given := 0
	open := map[string]bool{} // w.done keeps only disputes still open
	defer func() {
		for id := range w.done {
			if !open[id] {
				delete(w.done, id)
			}
		}
	}()
	for cursor := ""; ; {
		page, err := w.Client.Disputes(ctx, client.DisputeFilter{Status: dispute.StatusOpen, Page: client.Page{Limit: 100, Cursor: cursor}})
		if err != nil {
			return given, err
		}
		for i := range page.Disputes {
			d := &page.Disputes[i]
			open[d.ID] = true
			if w.done[d.ID] || !pending(d, me) {
				continue
			}
			verdict, observed := w.Check(ctx, d)
			if _, err := w.Signer.DisputeVerdict(ctx, d.ID, verdict, observed); err != nil {
				w.logf("dispute %s: verdict %s refused: %v", d.ID, verdict, err)
			} else {
				given++
				w.logf("dispute %s (%s on %s): %s (%s)", d.ID, d.Kind, d.Reservation, verdict, observed)
			}
			w.done[d.ID] = true
		}
		if cursor = page.NextCursor; cursor == "" {
			return given, nil
		}
	}
}

// pending says whether oracle sits on d's panel without a verdict yet.
func pending(d *types.Dispute, oracle string) bool {
	for _, s := range d.Panel {
		if s.Oracle == oracle {
			return s.Verdict == ""
		}
	}
	return false
}

// Check re-checks one dispute and returns the verdict and what it saw.
func (w *Disputes) Check(ctx context.Context, d *types.Dispute) (verdict, observed string) {
	switch d.Kind {
	case dispute.KindDataLoss:
		return w.checkDataLoss(ctx, d)
	case dispute.KindUnavailable:
		return w.checkUnavailable(ctx, d)
	}
	return dispute.VerdictCannotTell, "an oracle has no evidence of a consumer's egress"
}

// checkDataLoss fetches the object with the dispute key and compares.
func (w *Disputes) checkDataLoss(ctx context.Context, d *types.Dispute) (string, string) {
	id, secret, err := client.DisputeKey(d, w.Signer.Address(), w.pub, w.priv)
	if err != nil {
		return dispute.VerdictCannotTell, err.Error()
	}
	endpoint, err := w.endpoint(ctx, d.Provider)
	if err != nil {
		return dispute.VerdictCannotTell, "provider: " + err.Error()
	}
	want, err := hex.DecodeString(d.ContentHash)
	if err != nil {
		return dispute.VerdictCannotTell, "content hash: " + err.Error()
	}
	b := client.NewBucket(endpoint, d.Reservation, id, secret)
	retry := w.Retry
	if retry <= 0 {
		retry = 20 * time.Second
	}
	// Leave a few seconds of the window for the verdict tx.
	until := time.Now().Add(retry)
	if dl := d.Deadline.UTC().Add(-5 * time.Second); dl.Before(until) {
		until = dl
	}
	var last string
	for {
		got, status, err := fetchHash(ctx, b, d.Key, d.PartSizes)
		switch {
		case errors.Is(err, errNotTheParts):
			return dispute.VerdictUpheld, "the content does not fit the receipt's part sizes"
		case err == nil && bytes.Equal(got, want):
			return dispute.VerdictRejected, "sha256:" + hex.EncodeToString(got)
		case err == nil:
			return dispute.VerdictUpheld, "sha256:" + hex.EncodeToString(got)
		case status == "NoSuchKey":
			return dispute.VerdictUpheld, "404 NoSuchKey"
		}
		last = err.Error()
		if time.Now().After(until) || ctx.Err() != nil {
			return dispute.VerdictCannotTell, truncate(last, dispute.MaxObserved)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (w *Disputes) endpoint(ctx context.Context, provider string) (string, error) {
	if w.Endpoint != nil {
		return w.Endpoint(ctx, provider)
	}
	p, err := w.Client.Provider(ctx, provider)
	if err != nil {
		return "", err
	}
	return p.Endpoint, nil
}

// fetchHash reads key through the bridge and hashes it by the receipt's
// rule; status is the S3 error code of a refused read.
func fetchHash(ctx context.Context, b *client.Bucket, key string, parts []int64) ([]byte, string, error) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := b.S3.GetObject(rctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, client.S3Code(err), err
	}
	defer out.Body.Close()
	h, err := receipt.ContentHashOf(out.Body, parts)
	if err != nil {
		// A body that does not fit the receipt's parts is other bytes.
		if ctx.Err() == nil && rctx.Err() == nil && !isReadErr(err) {
			return nil, "", errNotTheParts
		}
		return nil, "", err
	}
	return h, "", nil
}

// errNotTheParts: the object's length differs from the receipt's parts.
var errNotTheParts = errors.New("content does not fit the receipt's parts")

// isReadErr tells a failed read (ContentHashOf wraps the reader's error)
// from content of another length than the parts (a plain error).
func isReadErr(err error) bool { return errors.Unwrap(err) != nil }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
