package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
)

// The story's steps, in the order demo.steps runs them.

// marketListing lists the available units cheapest first; both demo
// units must be there.
func (d *demo) marketListing(ctx context.Context) (string, error) {
	page, err := d.c.Units(ctx, client.UnitFilter{Status: contract.UnitAvailable, Sort: "price"})
	if err != nil {
		return "", err
	}
	var lines []string
	seen := map[string]bool{}
	for _, u := range page.Units {
		seen[u.ID] = true
		lines = append(lines, fmt.Sprintf("%s %s/%s %s/GiB-month score %d free %d GiB", u.ID, u.Kind, u.Region, client.FormatAmount(u.StoragePrice), u.Score, u.FreeBytes>>30))
	}
	if !seen[d.unitA] || !seen[d.unitB] {
		return "", fmt.Errorf("listing has %d units, want both %s and %s", len(page.Units), d.unitA, d.unitB)
	}
	return strings.Join(lines, "; "), nil
}

// quote prices 50 GiB for 30 days on every unit and records the units'
// scores before the story.
func (d *demo) quote(ctx context.Context) (string, error) {
	q, err := d.c.Quote(ctx, client.QuoteRequest{Bytes: demoResSize, Term: demoResTerm, Egress: 1 << 30})
	if err != nil {
		return "", err
	}
	var lines []string
	found := 0
	for _, it := range q.Quotes {
		if it.Unit == d.unitA || it.Unit == d.unitB {
			found++
		}
		switch it.Unit {
		case d.unitA:
			d.rep.Scores.ABefore = it.Score
		case d.unitB:
			d.rep.Scores.BBefore = it.Score
		}
		lines = append(lines, fmt.Sprintf("%s: %s total (score %d)", it.Unit, client.FormatAmount(it.Cost.Total), it.Score))
	}
	if found != 2 {
		return "", fmt.Errorf("quote lists %d of the 2 units", found)
	}
	return strings.Join(lines, "; "), nil
}

// reserveBoth has alice reserve on both units; auto-accept makes both
// active at once.
func (d *demo) reserveBoth(ctx context.Context) (string, error) {
	var ids [2]string
	for i, u := range []string{d.unitA, d.unitB} {
		var err error
		if ids[i], _, err = d.alice.Reserve(ctx, contract.MsgReserve{Unit: u, Bytes: demoResSize, Term: demoResTerm, EgressBytes: 1 << 30, MaxPrice: demoPriceA}); err != nil {
			return "", fmt.Errorf("reserve on %s: %w", u, err)
		}
		r, err := d.c.Reservation(ctx, ids[i])
		if err != nil {
			return "", err
		}
		if r.Status != contract.ResActive {
			return "", fmt.Errorf("reservation %s is %s, want active", r.ID, r.Status)
		}
	}
	d.resA, d.resB = ids[0], ids[1]
	d.rep.Reservations["a"], d.rep.Reservations["b"] = d.resA, d.resB
	return fmt.Sprintf("%s on %s and %s on %s, both active", d.resA, d.unitA, d.resB, d.unitB), nil
}

// createAccessKey makes alice's key for her reservation on A and waits
// until bridge A accepts it.
func (d *demo) createAccessKey(ctx context.Context) (string, error) {
	key, err := d.alice.CreateAccessKey(ctx, d.resA, contract.PermWrite)
	if err != nil {
		return "", err
	}
	d.key = key
	if err := key.Bucket().WaitReady(ctx, 15*time.Second); err != nil {
		return "", err
	}
	return fmt.Sprintf("key %s for bucket %s at %s, accepted by the bridge", key.AccessKeyID, key.Reservation, key.Endpoint), nil
}

// uploadDownload puts 1 MiB of random bytes through bridge A and reads
// them back.
func (d *demo) uploadDownload(ctx context.Context) (string, error) {
	data := make([]byte, demoObjectSize)
	_, _ = rand.Read(data)
	b := d.key.Bucket()
	if _, err := b.Upload(ctx, "demo/hello.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{}); err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	var got bytes.Buffer
	if _, err := b.Download(ctx, "demo/hello.bin", &got, nil); err != nil {
		return "", fmt.Errorf("download: %w", err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		return "", fmt.Errorf("downloaded %d bytes that differ from the %d uploaded", got.Len(), len(data))
	}
	return fmt.Sprintf("s3://%s/demo/hello.bin: %d bytes up, %d bytes down, identical", d.resA, len(data), got.Len()), nil
}

// claimRevenue waits for unit A's first final revenue and claims it.
func (d *demo) claimRevenue(ctx context.Context) (string, error) {
	before, err := d.c.Account(ctx, d.provA.Address())
	if err != nil {
		return "", err
	}
	var claimable contract.Amount
	if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
		u, err := d.c.Unit(ctx, d.unitA)
		if err != nil {
			return false, err
		}
		claimable = u.Claimable
		return claimable > 0, nil
	}); err != nil {
		return "", fmt.Errorf("unit %s never had final revenue to claim: %w", d.unitA, err)
	}
	amt, _, err := d.provA.Claim(ctx, d.unitA)
	if err != nil {
		return "", fmt.Errorf("claim: %w", err)
	}
	d.rep.Payment.Provider, d.rep.Payment.Unit, d.rep.Payment.Claimed = d.provA.Address(), d.unitA, amt
	if amt == 0 {
		return "", errors.New("the claim paid nothing")
	}
	return fmt.Sprintf("%s final revenue on %s, claimed %s (%d uflash) to provider A (balance was %s; tx fees are paid from it too)",
		client.FormatAmount(claimable), d.unitA, client.FormatAmount(amt), amt, client.FormatAmount(before.Balance)), nil
}

// awaitBreach waits until the oracle's reports have unit B judged
// breached and records the epochs and terms.
func (d *demo) awaitBreach(ctx context.Context) (string, error) {
	var q *contract.UnitQoSView
	if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
		var err error
		if q, err = d.c.UnitQoS(ctx, d.unitB, client.EpochRange{}); err != nil {
			return false, err
		}
		return q.Breached > 0, nil
	}); err != nil {
		return "", fmt.Errorf("unit %s was never judged breached: %w", d.unitB, err)
	}
	terms := map[string]bool{}
	for _, h := range q.History {
		if h.Status == contract.QoSBreached {
			d.rep.Breach.Epochs = append(d.rep.Breach.Epochs, h.Epoch)
			for _, t := range h.Terms {
				if !terms[t] {
					terms[t] = true
					d.rep.Breach.Terms = append(d.rep.Breach.Terms, t)
				}
			}
		}
	}
	d.rep.Breach.Unit, d.rep.Breach.Slashed = d.unitB, q.Slashed
	if len(d.rep.Breach.Epochs) == 0 {
		return "", errors.New("the QoS view counts a breach but its history shows none")
	}
	return fmt.Sprintf("%s breached in epoch(s) %v on %s (uptime %.1f%%); %s of its stake slashed so far",
		d.unitB, d.rep.Breach.Epochs, strings.Join(d.rep.Breach.Terms, ", "), float64(q.UptimeBps)/100, client.FormatAmount(q.Slashed)), nil
}

// claimCompensation has alice claim her share of B's slashed stake.
func (d *demo) claimCompensation(ctx context.Context) (string, error) {
	var amt contract.Amount
	if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
		var err error
		amt, _, err = d.alice.ClaimCompensation(ctx, d.resB)
		if client.IsCode(err, contract.CodeNotFound) {
			return false, nil // nothing distributed yet
		}
		return err == nil, err
	}); err != nil {
		return "", fmt.Errorf("claim compensation on %s: %w", d.resB, err)
	}
	d.rep.Compensation.Reservation, d.rep.Compensation.Consumer, d.rep.Compensation.Amount = d.resB, d.alice.Address(), amt
	if amt == 0 {
		return "", errors.New("the compensation claim paid nothing")
	}
	return fmt.Sprintf("%s paid to alice on %s", client.FormatAmount(amt), d.resB), nil
}

// awaitScores waits until B's score falls below 50 and below A's.
func (d *demo) awaitScores(ctx context.Context) (string, error) {
	var a, b *contract.UnitQoSView
	if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
		var err error
		if a, err = d.c.UnitQoS(ctx, d.unitA, client.EpochRange{}); err != nil {
			return false, err
		}
		if b, err = d.c.UnitQoS(ctx, d.unitB, client.EpochRange{}); err != nil {
			return false, err
		}
		return b.Score < 50 && b.Score < a.Score, nil
	}); err != nil {
		if a != nil && b != nil {
			return "", fmt.Errorf("scores A %d, B %d: %w", a.Score, b.Score, err)
		}
		return "", err
	}
	d.rep.Scores.AAfter, d.rep.Scores.BAfter = a.Score, b.Score
	pa, err := d.c.ProviderScore(ctx, d.provA.Address())
	if err != nil {
		return "", err
	}
	pb, err := d.c.ProviderScore(ctx, d.provB.Address())
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("unit A %d -> %d, unit B %d -> %d; provider scores A %d, B %d",
		d.rep.Scores.ABefore, a.Score, d.rep.Scores.BBefore, b.Score, pa.Score, pb.Score), nil
}

// finalBalances records everyone's balance and the network stats.
func (d *demo) finalBalances(ctx context.Context) (string, error) {
	var lines []string
	for _, n := range []struct {
		name string
		s    *client.Signer
	}{{"alice", d.alice}, {"provider A", d.provA}, {"provider B", d.provB}, {"oracle", d.orcSigner}} {
		acc, err := d.c.Account(ctx, n.s.Address())
		if err != nil {
			return "", err
		}
		d.rep.Balances[n.name] = acc.Balance
		lines = append(lines, fmt.Sprintf("%s %s", n.name, client.FormatAmount(acc.Balance)))
	}
	st, err := d.c.Stats(ctx)
	if err != nil {
		return "", err
	}
	d.rep.Stats = st
	if st.ActiveOracles < 1 {
		return "", errors.New("stats show no active oracle")
	}
	return fmt.Sprintf("%s; stats: epoch %d, frontier %d, escrowed %s, staked %s, treasury %s, compensation pool %s, %d active oracle(s)",
		strings.Join(lines, ", "), st.Epoch, st.Frontier, client.FormatAmount(st.Escrowed), client.FormatAmount(st.Staked),
		client.FormatAmount(st.Treasury), client.FormatAmount(st.CompensationPool), st.ActiveOracles), nil
}
