package dispute

import (
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Query answers "disputes" (filters reservation, consumer, provider,
// status; paginated), "disputes/dsp-N", "disputes/accounts/ADDR",
// "disputes/panel?reservation=", "disputes/units/unit-N" and
// "disputes/stats"; ok is false for other paths.
func (k *Keeper) Query(kv store.KV, parts []string, q url.Values) ([]byte, bool, error) {
	if len(parts) == 0 || parts[0] != "disputes" {
		return nil, false, nil
	}
	var out any
	var err error
	switch {
	case len(parts) == 1:
		out, err = list(kv, q)
	case len(parts) == 2 && parts[1] == "stats":
		s := getStats(kv)
		out = s.View()
	case len(parts) == 2 && parts[1] == "panel":
		out, err = k.panel(kv, q.Get("reservation"))
	case len(parts) == 2:
		n, perr := ParseID(parts[1])
		d, ok := Get(kv, n)
		if perr != nil || !ok {
			return nil, true, core.Errf(core.CodeNotFound, "dispute %s does not exist", parts[1])
		}
		out = d.View()
	case len(parts) == 3 && parts[1] == "accounts":
		out, err = account(kv, parts[2])
	case len(parts) == 3 && parts[1] == "units":
		n, perr := market.ParseUnitID(parts[2])
		if _, ok := market.GetUnitN(kv, n); perr != nil || !ok {
			return nil, true, core.Errf(core.CodeNotFound, "unit %s not found", parts[2])
		}
		out = types.DisputeUnitPolicy{Unit: parts[2], MaxConsumerDisputes: MaxConsumerDisputes(kv, n)}
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	b, err := json.Marshal(out)
	return b, true, err
}

// list walks one index (by reservation, consumer or provider, else all
// disputes) in id order; status filters the page.
func list(kv store.KV, q url.Values) (*types.DisputesPage, error) {
	prefix := keyDispute
	switch {
	case q.Get("reservation") != "":
		n, err := market.ParseResID(q.Get("reservation"))
		if err != nil {
			return nil, core.Errf(core.CodeInvalidQuery, "%v", err)
		}
		prefix = store.Key(keyByRes, store.EncodeUint64(n))
	case q.Get("consumer") != "":
		raw, err := address.Parse(q.Get("consumer"))
		if err != nil {
			return nil, core.Errf(core.CodeInvalidAddress, "consumer: %v", err)
		}
		prefix = store.Key(keyByCons, raw)
	case q.Get("provider") != "":
		raw, err := address.Parse(q.Get("provider"))
		if err != nil {
			return nil, core.Errf(core.CodeInvalidAddress, "provider: %v", err)
		}
		prefix = store.Key(keyByProv, raw)
	}
	limit, err := market.PageLimit(q)
	if err != nil {
		return nil, err
	}
	status, cons, prov := q.Get("status"), q.Get("consumer"), q.Get("provider")
	page := &types.DisputesPage{Disputes: []types.Dispute{}}
	page.NextCursor, err = market.ScanPage(kv, prefix, q.Get("cursor"), limit, func(suffix []byte) bool {
		if len(suffix) != 8 {
			return false
		}
		d, ok := Get(kv, store.DecodeUint64(suffix))
		if !ok || (status != "" && d.Status != status) || (cons != "" && d.Consumer != cons) || (prov != "" && d.Provider != prov) {
			return false
		}
		page.Disputes = append(page.Disputes, d.View())
		return true
	})
	return page, err
}

func account(kv store.KV, addr string) (*types.DisputeAccount, error) {
	raw, err := address.Parse(addr)
	if err != nil {
		return nil, core.Errf(core.CodeInvalidAddress, "%q: %v", addr, err)
	}
	cc, pc := getConsumerCounts(kv, raw), getProviderCounts(kv, raw)
	return &types.DisputeAccount{Address: address.Encode(raw), Consumer: cc.View(), Provider: pc.View(), SealKey: SealKey(kv, raw)}, nil
}

// panel is who would hear a dispute on the reservation opened now (the
// client seals the read key's secret to each of them).
func (k *Keeper) panel(kv store.KV, resID string) (*types.DisputePanel, error) {
	if resID == "" {
		return nil, core.Errf(core.CodeInvalidQuery, "disputes/panel needs reservation=")
	}
	r, ok := market.GetReservation(kv, resID)
	if !ok {
		return nil, core.Errf(core.CodeNotFound, "reservation %s does not exist", resID)
	}
	unitN, _ := market.ParseUnitID(r.Unit)
	e := market.EpochOf(market.LastBlockTime(kv), market.ParamsOf(kv).Epoch)
	out := &types.DisputePanel{Reservation: r.ID, Unit: r.Unit, Epoch: e, Oracles: []types.DisputePanelOracle{}}
	assigned, _, err := k.oracles.Assigned(kv, e, unitN)
	if err != nil {
		return nil, err
	}
	for _, a := range k.eligible(kv, assigned, r.Consumer) {
		raw, _ := address.Parse(a)
		out.Oracles = append(out.Oracles, types.DisputePanelOracle{Oracle: a, SealKey: SealKey(kv, raw)})
	}
	return out, nil
}
