package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

// storeFlags are the flags of `flashback store`.
type storeFlags struct {
	from, size, term, egress, region, maxPrice string
	acceptWait                                 time.Duration
}

func storeCmd(g *globals) *cobra.Command {
	var fl storeFlags
	cmd := &cobra.Command{
		Use:   "store FILE...",
		Short: "Reserve storage on the best-scoring fitting unit, create an access key and upload files",
		Long: "Quote the market for units that fit --size for --term (in --region, at most --max-price per\n" +
			"GiB-month), reserve the best-scoring one (the cheapest among equals), create a write key\n" +
			"(stored in HOME/s3keys.json) and upload each FILE to fb://RESERVATION/<its base name>.\n" +
			"--size defaults to twice the files' total, rounded up to a whole GiB; --egress to --size.",
		Example: "  flashback store photo.jpg notes.txt --term 30d --from alice\n" +
			"  flashback cp fb://res-1/photo.jpg copy.jpg",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			return runStore(cmd, g, &fl, files)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.size, "size", "", "capacity to reserve (default: twice the files' total, rounded up to a GiB)")
	f.StringVar(&fl.term, "term", "30d", "term: seconds or with a unit (30d, 12h, 1mo)")
	f.StringVar(&fl.egress, "egress", "", "egress allowance (default: the size)")
	f.StringVar(&fl.region, "region", "", "only units in this region")
	f.StringVar(&fl.maxPrice, "max-price", "", "highest storage price per GiB-month, uflash or with a unit (1.5FLASH) (default: any)")
	f.DurationVar(&fl.acceptWait, "accept-timeout", 2*time.Minute, "how long to wait for a provider to accept the reservation (units without auto-accept)")
	addFrom(cmd, &fl.from)
	return cmd
}

// runStore quotes, reserves the best unit, creates a write key and uploads
// files, in that order: each step needs the one before.
func runStore(cmd *cobra.Command, g *globals, fl *storeFlags, files []string) error {
	total, err := storeFilesTotal(files)
	if err != nil {
		return err
	}
	m, limit, err := fl.reserveMsg(cmd, total)
	if err != nil {
		return err
	}
	priv, err := g.privKey(fl.from)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	c := g.client()

	best, err := quoteBestUnit(ctx, c, m, fl.region, limit)
	if err != nil {
		return err
	}
	m.Unit = best.Unit
	m.MaxPrice = best.StoragePrice
	egressPrice := best.EgressPrice
	m.MaxEgressPrice = &egressPrice
	if limit != nil {
		m.MaxPrice = *limit
	}
	text := g.output != "json"
	if text {
		fmt.Fprintf(g.out, "unit %s (provider %s, %s/%s, score %d, %s per GiB-month): %s for %s, egress %s, escrow %s\n",
			best.Unit, best.Provider, best.Region, best.Country, best.Score, client.FormatAmount(best.StoragePrice),
			bytesHuman(m.Bytes), durHuman(m.Term), bytesHuman(m.EgressBytes), client.FormatAmount(best.Cost.Total))
	}

	out, status, err := submitReserve(ctx, g, g.newSigner(priv), m, best, text) // prechecked: a reserve that would fail costs no fee
	if err != nil {
		return err
	}
	b, err := openStoreBucket(ctx, g, c, out, status, fl)
	if err != nil {
		return err
	}
	if err := uploadStoreFiles(ctx, g, b, out, files, text); err != nil {
		return err
	}
	if !text {
		return g.print(out, nil)
	}
	return nil
}

// storeFilesTotal checks that files are regular files with distinct base
// names (their keys) and returns their total size.
func storeFilesTotal(files []string) (uint64, error) {
	var total uint64
	seen := map[string]string{}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return 0, err
		}
		if !st.Mode().IsRegular() {
			return 0, fmt.Errorf("%s: not a regular file", f)
		}
		base := filepath.Base(f)
		if prev, dup := seen[base]; dup {
			return 0, fmt.Errorf("%s and %s would both be stored as %q", prev, f, base)
		}
		seen[base] = f
		total += uint64(st.Size())
	}
	return total, nil
}

// reserveMsg builds the reservation (without its unit and price) from the
// flags for files of total bytes, and the price limit (nil: any).
func (fl *storeFlags) reserveMsg(cmd *cobra.Command, total uint64) (*market.MsgReserve, *core.Amount, error) {
	m := &market.MsgReserve{}
	var err error
	if cmd.Flags().Changed("size") {
		if m.Bytes, err = parseSize("size", fl.size); err != nil {
			return nil, nil, err
		}
		if m.Bytes < total {
			return nil, nil, fmt.Errorf("--size %s is smaller than the files (%s)", bytesHuman(m.Bytes), bytesHuman(total))
		}
	} else {
		const gib = 1 << 30
		m.Bytes = max(gib, (2*total+gib-1)/gib*gib)
	}
	if m.Term, err = parseDuration("term", fl.term); err != nil {
		return nil, nil, err
	}
	m.EgressBytes = m.Bytes
	if cmd.Flags().Changed("egress") {
		if m.EgressBytes, err = parseSize("egress", fl.egress); err != nil {
			return nil, nil, err
		}
	}
	var limit *core.Amount
	if fl.maxPrice != "" {
		a, err := parseAmountFlag("max-price", fl.maxPrice)
		if err != nil {
			return nil, nil, err
		}
		limit = &a
	}
	return m, limit, nil
}

// quoteBestUnit quotes the market for m and picks the best unit within limit.
func quoteBestUnit(ctx context.Context, c *client.Client, m *market.MsgReserve, region string, limit *core.Amount) (*types.QuoteItem, error) {
	qctx, qcancel := context.WithTimeout(ctx, 30*time.Second)
	quotes, err := c.Quote(qctx, client.QuoteRequest{Bytes: m.Bytes, Term: m.Term, Egress: m.EgressBytes, Region: region, Limit: market.MaxPageSize})
	qcancel()
	if err != nil {
		return nil, fmt.Errorf("quote: %w", explain(err))
	}
	best := pickUnit(quotes.Quotes, limit)
	if best == nil {
		where := ""
		if region != "" {
			where = " in region " + region
		}
		price := ""
		if limit != nil {
			price = " at most " + client.FormatAmount(*limit) + " per GiB-month"
		}
		return nil, fmt.Errorf("no available unit%s%s fits %s for %s (%d quoted; see `flashback query units`)", where, price, bytesHuman(m.Bytes), durHuman(m.Term), len(quotes.Quotes))
	}
	return best, nil
}

// submitReserve sends the reservation and returns the output it starts,
// with the new reservation's status.
func submitReserve(ctx context.Context, g *globals, signer *client.Signer, m *market.MsgReserve, best *types.QuoteItem, text bool) (*storeOut, string, error) {
	rctx, rcancel := context.WithTimeout(ctx, 90*time.Second)
	res, err := signer.Submit(rctx, m)
	rcancel()
	if err != nil {
		return nil, "", fmt.Errorf("reserve %s: %w", best.Unit, explain(err))
	}
	resID := client.EventAttr(res, "reservation_created", "id")
	status := client.EventAttr(res, "reservation_created", "status")
	if text {
		fmt.Fprintf(g.out, "reserved %s (%s, tx %s at height %d)\n", resID, status, res.Hash, res.Height)
	}
	out := &storeOut{Reservation: resID, Unit: best.Unit, Provider: best.Provider, Bytes: m.Bytes, Term: m.Term,
		EgressBytes: m.EgressBytes, Escrow: client.EventAttr(res, "reservation_created", "escrow"), Tx: res.Hash, Files: []transferOut{}}
	return out, status, nil
}

// openStoreBucket creates the write key (stored before anything else can
// fail), waits for the provider to accept a pending reservation and for the
// bridge to know the key.
func openStoreBucket(ctx context.Context, g *globals, c *client.Client, out *storeOut, status string, fl *storeFlags) (*client.Bucket, error) {
	resID, from := out.Reservation, fl.from
	kctx, kcancel := context.WithTimeout(ctx, 90*time.Second)
	k, err := g.createS3Key(kctx, resID, accesskey.PermWrite, from)
	kcancel()
	if err != nil {
		return nil, err
	}
	out.AccessKeyID, out.Endpoint = k.AccessKeyID, k.Endpoint
	if status != market.ResActive {
		g.note("waiting up to %s for the provider to accept %s", fl.acceptWait, resID)
		if err := waitActive(ctx, c, resID, fl.acceptWait); err != nil {
			return nil, err
		}
	}
	b := k.Bucket()
	if err := b.WaitReady(ctx, 20*time.Second); err != nil {
		return nil, s3Explain(err, b, "")
	}
	return b, nil
}

// uploadStoreFiles uploads each file under its base name, adding it to out.
func uploadStoreFiles(ctx context.Context, g *globals, b *client.Bucket, out *storeOut, files []string, text bool) error {
	resID := out.Reservation
	// Large files go in resumable parts: the retry the error suggests
	// continues where the upload stopped.
	opts := &xferOpts{partSize: client.PartSize, threshold: client.MultipartThreshold, concurrency: client.Concurrency, files: 1}
	for _, f := range files {
		key := filepath.Base(f)
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		bar := newProgress("↑ " + key)
		var done atomic.Int64
		r, err := g.uploadFile(ctx, b, key, f, st.Size(), opts, func(n int64) { bar.update(done.Add(n), st.Size()) })
		bar.finish(err == nil)
		if err != nil {
			return fmt.Errorf("%w (the reservation %s and its key are kept: retry with `flashback cp %s %s`)", err, resID, f, fbURL(resID, key))
		}
		o, rcpt := r.obj, r.receipt
		t := transferOut{URL: fbURL(resID, key), File: f, Bytes: o.Size, ETag: o.ETag, Receipt: rcpt, Multipart: r.stats}
		out.Files = append(out.Files, t)
		if text {
			fmt.Fprintf(g.out, "%s  (%s)\n", t.URL, bytesHuman(uint64(t.Bytes)))
		}
	}
	return nil
}

type storeOut struct {
	Reservation string        `json:"reservation"`
	Unit        string        `json:"unit"`
	Provider    string        `json:"provider"`
	Bytes       uint64        `json:"bytes"`
	Term        int64         `json:"term_seconds"`
	EgressBytes uint64        `json:"egress_bytes"`
	Escrow      string        `json:"escrow"`
	Tx          string        `json:"tx"`
	AccessKeyID string        `json:"access_key_id"`
	Endpoint    string        `json:"endpoint"`
	Files       []transferOut `json:"files"`
}

// pickUnit returns the best-scoring quote within limit (nil: any price),
// the cheapest among equal scores.
func pickUnit(qs []types.QuoteItem, limit *core.Amount) *types.QuoteItem {
	var best *types.QuoteItem
	for i := range qs {
		q := &qs[i]
		if limit != nil && q.StoragePrice > *limit {
			continue
		}
		if best == nil || q.Score > best.Score || q.Score == best.Score && q.Cost.Total < best.Cost.Total {
			best = q
		}
	}
	return best
}

// waitActive waits for a pending reservation to be accepted.
func waitActive(ctx context.Context, c *client.Client, res string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := c.Reservation(qctx, res)
		cancel()
		if err == nil {
			switch r.Status {
			case market.ResActive:
				return nil
			case market.ResPending:
			default:
				return fmt.Errorf("reservation %s is %s", res, r.Status)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reservation %s is still pending the provider's acceptance; upload later with `flashback cp FILE %s`", res, fbURL(res, ""))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
