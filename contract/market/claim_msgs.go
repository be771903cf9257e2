package market

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// MsgClaim pays the signer's provider its final revenue on one unit, or on
// all its units when Unit is empty.
type MsgClaim struct {
	Unit string `json:"unit,omitempty"`

	// unitN is Unit's number, parsed once by ValidateBasic.
	unitN uint64
}

func (m *MsgClaim) ValidateBasic() error {
	if m.Unit != "" {
		n, err := ParseUnitID(m.Unit)
		m.unitN = n
		return err
	}
	return nil
}

// MaxClaimAllUnits bounds a claim without a unit: it settles each of the
// provider's units, so its work grows with them.
const MaxClaimAllUnits = 100

func (mk *Keeper) handleClaim(ctx *core.Context, signer []byte, m *MsgClaim) error {
	kv := ctx.KV
	mp := ParamsOf(kv)
	var units []*Unit
	if m.Unit != "" {
		n, err := UnitNumber(m.unitN, m.Unit)
		if err != nil {
			return err
		}
		u, err := ownUnit(kv, signer, n)
		if err != nil {
			return err
		}
		units = append(units, u)
	} else {
		if _, ok := GetProvider(kv, signer); !ok {
			return core.Errf(core.CodeNotFound, "%s is not a provider", address.Encode(signer))
		}
		pfx := store.Key(KeyProvUnits, signer)
		var ids []uint64
		kv.Iterate(pfx, store.PrefixEnd(pfx), func(k, _ []byte) bool {
			ids = append(ids, store.DecodeUint64(k[len(pfx):]))
			return len(ids) <= MaxClaimAllUnits
		})
		if len(ids) > MaxClaimAllUnits {
			return core.Errf(core.CodeTooManyUnits, "a claim without a unit covers at most %d units and %s has more: claim unit by unit (unit: \"unit-N\")", MaxClaimAllUnits, address.Encode(signer))
		}
		for _, n := range ids {
			if u, ok := GetUnitN(kv, n); ok && u.Status != UnitDeleted {
				units = append(units, u)
			}
		}
	}
	for _, u := range units {
		if u.Status == UnitDeleted {
			continue
		}
		accrueUnit(u, ctx.Now(), mp)
		net, fee, err := mk.claimUnit(kv, u, signer)
		if err != nil {
			return err
		}
		mk.setUnit(kv, u)
		if net > 0 || fee > 0 {
			ctx.Emit("claim", "unit", u.ID, "provider", u.Provider, "amount", net.String(), "fee", fee.String())
		}
	}
	return nil
}

// MsgReportUsage is the bridge (signing with the provider key) reporting a
// reservation's usage for an epoch. Egress is charged from the escrowed
// allowance, never beyond it, and paid to the provider at once.
type MsgReportUsage struct {
	Reservation  string `json:"reservation"`
	Epoch        int64  `json:"epoch"`
	StoredBytes  uint64 `json:"stored_bytes"`
	IngressBytes uint64 `json:"ingress_bytes"`
	EgressBytes  uint64 `json:"egress_bytes"`

	// resN is Reservation's number, parsed once by ValidateBasic.
	resN uint64
}

func (m *MsgReportUsage) ValidateBasic() error {
	n, err := ParseResID(m.Reservation)
	if err != nil {
		return err
	}
	m.resN = n
	if m.Epoch < 0 {
		return core.Errf(core.CodeInvalidMessage, "epoch must not be negative")
	}
	return nil
}

// checkUsage bounds a usage report against its reservation: stored bytes
// at most the reserved bytes, egress at most the allowance left, counters
// without overflow. It returns the reservation's new egress and ingress
// totals. A report outside the bounds is refused whole (usage_out_of_bounds
// or overflow): a bridge cannot inflate a unit's usage or drain egress
// escrow beyond what the consumer bought.
func checkUsage(r *Reservation, m *MsgReportUsage) (egress, ingress uint64, err error) {
	if m.StoredBytes > r.Bytes {
		return 0, 0, core.Errf(core.CodeUsageOutOfBounds, "report for %s says %d bytes stored; the reservation holds at most %d bytes", r.ID, m.StoredBytes, r.Bytes)
	}
	left := r.EgressBytes - min(r.EgressUsed, r.EgressBytes)
	if m.EgressBytes > left {
		return 0, 0, core.Errf(core.CodeUsageOutOfBounds, "report for %s says %d bytes of egress; %d bytes are left of the allowance of %d bytes (report at most that)", r.ID, m.EgressBytes, left, r.EgressBytes)
	}
	ingress, err = core.AddU64(r.IngressBytes, m.IngressBytes)
	if err != nil {
		return 0, 0, core.Errf(core.CodeOverflow, "report for %s: ingress total overflows (%d + %d)", r.ID, r.IngressBytes, m.IngressBytes)
	}
	return r.EgressUsed + m.EgressBytes, ingress, nil
}

func (mk *Keeper) handleReportUsage(ctx *core.Context, signer []byte, m *MsgReportUsage) error {
	kv := ctx.KV
	n, err := ResNumber(m.resN, m.Reservation)
	if err != nil {
		return err
	}
	r, u, err := providerRes(kv, signer, n)
	if err != nil {
		return err
	}
	if r.Status != ResActive {
		return core.Errf(core.CodeWrongState, "reservation %s is %s; usage is reported for active reservations", r.ID, r.Status)
	}
	mp := ParamsOf(kv)
	if cur := EpochOf(ctx.Now(), mp.Epoch); m.Epoch > cur {
		return core.Errf(core.CodeInvalidMessage, "epoch %d is in the future (current epoch %d)", m.Epoch, cur)
	}
	if m.Epoch <= r.LastUsage {
		return core.Errf(core.CodeWrongState, "usage of reservation %s for epoch %d was already reported (last %d)", r.ID, m.Epoch, r.LastUsage)
	}
	used, ingress, err := checkUsage(r, m)
	if err != nil {
		return err
	}
	if used == r.EgressBytes && m.EgressBytes > 0 {
		ctx.Emit("egress_allowance_exhausted", "id", r.ID)
	}
	netTot, feeTot, err := egressEscrow(used, r.EgressPrice, r.FeeBps)
	if err != nil {
		return err
	}
	netTot, feeTot = min(netTot, r.EgressEsc), min(feeTot, r.EgressFeeEsc)
	dNet, dFee := netTot-r.EgressPaid, feeTot-r.EgressFee
	owner, _ := address.Parse(u.Provider)
	if dNet > 0 {
		if err := bank.FromPool(kv, bank.PoolEscrow, owner, dNet); err != nil {
			return err
		}
	}
	if dFee > 0 {
		if err := bank.PoolToPool(kv, bank.PoolEscrow, bank.PoolTreasury, dFee); err != nil {
			return err
		}
	}
	recordEgress(kv, n, m.Epoch, r.EgressUsed, m.EgressBytes) // for egress disputes (dispute_hooks.go)
	r.EgressUsed, r.EgressPaid, r.EgressFee = used, netTot, feeTot
	mk.quality.ProviderPaid(kv, dNet, dFee)
	// The unit's Used is the sum of its reservations' stored bytes, each
	// at most the reservation's Bytes (checkUsage), so it cannot pass the
	// unit's reserved bytes; the subtraction is clamped only for state
	// written before that bound existed.
	u.Used -= min(u.Used, r.StoredBytes)
	if u.Used, err = core.AddU64(u.Used, m.StoredBytes); err != nil {
		return core.Errf(core.CodeOverflow, "unit %s used bytes overflow", u.ID)
	}
	r.StoredBytes = m.StoredBytes
	r.IngressBytes = ingress
	r.LastUsage = m.Epoch
	if u.Settlement.EgressEarned, err = core.Add(u.Settlement.EgressEarned, dNet); err != nil {
		return err
	}
	mk.setUnit(kv, u)
	SetReservation(kv, r)
	ctx.Emit("usage", "id", r.ID, "epoch", itoa(m.Epoch), "egress_bytes", utoa(m.EgressBytes),
		"egress_paid", dNet.String(), "fee", dFee.String())
	return nil
}
