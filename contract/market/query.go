package market

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Page sizes of list queries.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	maxScan         = 10_000 // index entries a filtered list reads per page
	// maxQuoteUnits bounds the units a quote reads: it ranks the first
	// ones by storage price (the price index), cheapest first.
	maxQuoteUnits = 1_000
)

// NewProviderView is the REST view of p.
func NewProviderView(p *Provider) types.ProviderView {
	v := types.ProviderView{Provider: p.View(), UnbondingTotal: p.UnbondingTotal()}
	if v.Unbonding == nil {
		v.Unbonding = []types.UnbondingEntry{}
	}
	return v
}

// NewUnitView is the REST view of u as of the last block.
func NewUnitView(kv store.KV, u *Unit) types.UnitView {
	v := types.UnitView{Unit: u.View(), FreeBytes: u.Capacity - u.Reserved, TakesReservations: UnitTakesReservations(kv, u)}
	if u.Status != UnitDeleted {
		v.Claimable = UnitClaimable(kv, u, max(LastBlockTime(kv), u.Settlement.AccruedTo.Unix()))
	}
	return v
}

// NewReservationView is the REST view of r as of the last block.
func (mk *Keeper) NewReservationView(kv store.KV, r *Reservation) types.ReservationView {
	now := LastBlockTime(kv)
	v := types.ReservationView{Reservation: r.View(), AsOf: core.Time(now)}
	storage := r.StoragePaid
	if r.Status == ResActive {
		if u, ok := GetUnit(kv, r.Unit); ok {
			t := min(max(now, r.SettledTo.Unix()), r.End.Unix())
			pbs := AccruedPBS(kv, u, r, t, ParamsOf(kv))
			storage, _ = core.AmountFromBig(GrossCeil(pbs, r.FeeBps), "storage")
			storage = min(storage, r.StorageEsc)
			v.CompensationOwed = mk.quality.CompensationOwed(kv, u, r)
		}
	}
	v.Paid = storage + r.EgressPaid + r.EgressFee
	v.RemainingEscrow = r.Escrowed - r.Refunded - v.Paid
	return v
}

// QueryInt reads a non-negative integer query parameter (def when absent).
func QueryInt(q url.Values, name string, def int64, parse func(string) (int64, error)) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	v, err := parse(s)
	if err != nil || v < 0 {
		return 0, core.Errf(core.CodeInvalidQuery, "%s=%q: %v", name, s, err)
	}
	return v, nil
}

// canonAddr lower-cases a valid address so filters match stored ones (bech32
// allows an all-upper-case form); an invalid one is returned as is, for the
// caller's parse to reject with its own message.
func canonAddr(s string) string {
	if raw, err := address.Parse(s); err == nil {
		return address.Encode(raw)
	}
	return s
}

// ParsePlainInt reads a decimal integer.
func ParsePlainInt(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }

// PageLimit reads limit= (DefaultPageSize when absent, at most MaxPageSize).
func PageLimit(q url.Values) (int, error) {
	l, err := QueryInt(q, "limit", DefaultPageSize, ParsePlainInt)
	if err != nil {
		return 0, err
	}
	if l <= 0 {
		l = DefaultPageSize
	}
	return int(min(l, MaxPageSize)), nil
}

// ScanPage walks keys under prefix from the cursor (hex of the key suffix),
// calling visit with the suffix until visit has accepted limit items or
// maxScan keys were read; it returns the cursor of the next page ("" at the
// end).
func ScanPage(kv store.KV, prefix []byte, cursor string, limit int, visit func(suffix []byte) bool) (string, error) {
	start := prefix
	if cursor != "" {
		c, err := hex.DecodeString(cursor)
		if err != nil {
			return "", core.Errf(core.CodeInvalidQuery, "cursor %q is not one this API returned", cursor)
		}
		start = store.Key(prefix, c)
	}
	taken, scanned := 0, 0
	next := ""
	kv.Iterate(start, store.PrefixEnd(prefix), func(k, _ []byte) bool {
		suffix := k[len(prefix):]
		if taken >= limit || scanned >= maxScan {
			next = hex.EncodeToString(suffix)
			return false
		}
		scanned++
		if visit(suffix) {
			taken++
		}
		return true
	})
	return next, nil
}

// Query answers the market's query paths; ok is false for paths
// that are not the market's.
func (mk *Keeper) Query(kv store.KV, parts []string, q url.Values) (out []byte, ok bool, err error) {
	switch {
	case len(parts) == 1 && parts[0] == "providers":
		out, err = queryProviders(kv, q)
	case len(parts) == 2 && parts[0] == "providers":
		raw, perr := address.Parse(parts[1])
		if perr != nil {
			return nil, true, core.Errf(core.CodeInvalidAddress, "%v", perr)
		}
		p, found := GetProvider(kv, raw)
		if !found {
			return nil, true, core.Errf(core.CodeNotFound, "%s is not a provider", parts[1])
		}
		out, err = json.Marshal(NewProviderView(p))
	case len(parts) == 1 && parts[0] == "units":
		out, err = queryUnits(kv, q)
	case len(parts) == 2 && parts[0] == "units":
		u, found := GetUnit(kv, parts[1])
		if !found {
			return nil, true, core.Errf(core.CodeNotFound, "unit %q not found", parts[1])
		}
		out, err = json.Marshal(NewUnitView(kv, u))
	case len(parts) == 1 && parts[0] == "reservations":
		out, err = mk.queryReservations(kv, q)
	case len(parts) == 2 && parts[0] == "reservations":
		r, found := GetReservation(kv, parts[1])
		if !found {
			return nil, true, core.Errf(core.CodeNotFound, "reservation %q not found", parts[1])
		}
		out, err = json.Marshal(mk.NewReservationView(kv, r))
	case len(parts) == 3 && parts[0] == "reservations" && parts[2] == "statement":
		out, err = mk.queryStatement(kv, parts[1], q) // statement.go
	case len(parts) == 3 && parts[0] == "providers" && parts[2] == "statement":
		out, err = mk.queryProviderStatement(kv, parts[1], q) // statement_provider.go
	case len(parts) == 1 && parts[0] == "quote":
		out, err = queryQuote(kv, q)
	default:
		return nil, false, nil
	}
	return out, true, err
}

func queryProviders(kv store.KV, q url.Values) ([]byte, error) {
	limit, err := PageLimit(q)
	if err != nil {
		return nil, err
	}
	page := types.ProvidersPage{Providers: []types.ProviderView{}}
	page.NextCursor, err = ScanPage(kv, KeyProvider, q.Get("cursor"), limit, func(suffix []byte) bool {
		p, ok := GetProvider(kv, suffix)
		if !ok || (p.Deregistered && q.Get("all") != "true") {
			return false
		}
		page.Providers = append(page.Providers, NewProviderView(p))
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

func queryUnits(kv store.KV, q url.Values) ([]byte, error) {
	limit, err := PageLimit(q)
	if err != nil {
		return nil, err
	}
	minFree, err := QueryInt(q, "min_free", 0, ParseSize)
	if err != nil {
		return nil, err
	}
	maxPrice, err := QueryInt(q, "max_price", -1, ParsePlainInt)
	if err != nil {
		return nil, err
	}
	minScore, err := QueryInt(q, "min_score", 0, ParsePlainInt)
	if err != nil {
		return nil, err
	}
	region, country, kind, status, prov := q.Get("region"), q.Get("country"), q.Get("kind"), q.Get("status"), canonAddr(q.Get("provider"))
	var prefix []byte
	idOffset := 0
	switch q.Get("sort") {
	case "", "id":
		prefix = KeyUnit
	case "price":
		prefix, idOffset = keyUnitPriceIdx, 8
	case "score":
		prefix, idOffset = keyUnitScoreIdx, 1
	default:
		return nil, core.Errf(core.CodeInvalidQuery, "sort=%q: use price, score or id", q.Get("sort"))
	}
	page := types.UnitsPage{Units: []types.UnitView{}}
	page.NextCursor, err = ScanPage(kv, prefix, q.Get("cursor"), limit, func(suffix []byte) bool {
		if len(suffix) < idOffset+8 {
			return false
		}
		u, ok := GetUnitN(kv, store.DecodeUint64(suffix[idOffset:idOffset+8]))
		if !ok {
			return false
		}
		switch {
		case status == "" && u.Status == UnitDeleted,
			status != "" && u.Status != status,
			region != "" && u.Region != region,
			country != "" && !strings.EqualFold(u.Country, country),
			kind != "" && u.Kind != kind,
			prov != "" && u.Provider != prov,
			u.Capacity-u.Reserved < uint64(minFree),
			maxPrice >= 0 && uint64(u.StoragePrice) > uint64(maxPrice),
			int64(u.Score) < minScore:
			return false
		}
		page.Units = append(page.Units, NewUnitView(kv, u))
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

func (mk *Keeper) queryReservations(kv store.KV, q url.Values) ([]byte, error) {
	limit, err := PageLimit(q)
	if err != nil {
		return nil, err
	}
	consumer, provider, unit, status := canonAddr(q.Get("consumer")), canonAddr(q.Get("provider")), q.Get("unit"), q.Get("status")
	prefix := KeyRes
	switch {
	case consumer != "":
		raw, err := address.Parse(consumer)
		if err != nil {
			return nil, core.Errf(core.CodeInvalidAddress, "consumer: %v", err)
		}
		prefix = store.Key(keyResConsumer, raw)
	case provider != "":
		raw, err := address.Parse(provider)
		if err != nil {
			return nil, core.Errf(core.CodeInvalidAddress, "provider: %v", err)
		}
		prefix = store.Key(keyResProvider, raw)
	case unit != "":
		n, err := ParseUnitID(unit)
		if err != nil {
			return nil, core.Errf(core.CodeInvalidQuery, "unit: %v", err)
		}
		prefix = store.Key(keyResUnit, store.EncodeUint64(n))
	}
	page := types.ReservationsPage{Reservations: []types.ReservationView{}}
	page.NextCursor, err = ScanPage(kv, prefix, q.Get("cursor"), limit, func(suffix []byte) bool {
		if len(suffix) != 8 {
			return false
		}
		r, ok := GetReservation(kv, ResIDString(store.DecodeUint64(suffix)))
		if !ok {
			return false
		}
		if (consumer != "" && r.Consumer != consumer) || (provider != "" && r.Provider != provider) ||
			(unit != "" && r.Unit != unit) || (status != "" && r.Status != status) {
			return false
		}
		page.Reservations = append(page.Reservations, mk.NewReservationView(kv, r))
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

// queryQuote ranks the available units that fit bytes, term and the
// filters by total cost; it reads at most maxQuoteUnits units, the
// cheapest by storage price.
func queryQuote(kv store.KV, q url.Values) ([]byte, error) {
	bytes, err := QueryInt(q, "bytes", 0, ParseSize)
	if err != nil {
		return nil, err
	}
	term, err := QueryInt(q, "term", 0, ParseDuration)
	if err != nil {
		return nil, err
	}
	egress, err := QueryInt(q, "egress", 0, ParseSize)
	if err != nil {
		return nil, err
	}
	if bytes <= 0 || term <= 0 {
		return nil, core.Errf(core.CodeInvalidQuery, "bytes and term are required and must be positive (e.g. bytes=10GiB&term=30d)")
	}
	limit, err := QueryInt(q, "limit", 5, ParsePlainInt)
	if err != nil {
		return nil, err
	}
	limit = max(1, min(limit, MaxPageSize))
	mp := ParamsOf(kv)
	if term > mp.MaxTerm {
		return nil, core.Errf(core.CodeInvalidQuery, "term %d is longer than max_term %d", term, mp.MaxTerm)
	}
	region, country, kind := q.Get("region"), q.Get("country"), q.Get("kind")
	page := types.QuotePage{Bytes: uint64(bytes), Term: term, Egress: uint64(egress), Quotes: []types.QuoteItem{}}
	scanned := 0
	kv.Iterate(keyUnitPriceIdx, store.PrefixEnd(keyUnitPriceIdx), func(k, _ []byte) bool {
		scanned++
		if scanned > maxQuoteUnits {
			return false
		}
		u, ok := GetUnitN(kv, store.DecodeUint64(k[len(keyUnitPriceIdx)+8:]))
		if !ok || !UnitTakesReservations(kv, u) || u.Capacity-u.Reserved < uint64(bytes) ||
			(region != "" && u.Region != region) || (country != "" && !strings.EqualFold(u.Country, country)) ||
			(kind != "" && u.Kind != kind) {
			return true
		}
		c, err := QuoteCost(u.StoragePrice, u.EgressPrice, u.FeeBps, uint64(bytes), term, uint64(egress))
		if err != nil {
			return true
		}
		page.Quotes = append(page.Quotes, types.QuoteItem{
			Unit: u.ID, Provider: u.Provider, Kind: u.Kind, Region: u.Region, Country: u.Country,
			StoragePrice: u.StoragePrice, EgressPrice: u.EgressPrice, Score: u.Score,
			FreeBytes: u.Capacity - u.Reserved, Cost: c.View(),
		})
		return true
	})
	sort.SliceStable(page.Quotes, func(i, j int) bool { return page.Quotes[i].Cost.Total < page.Quotes[j].Cost.Total })
	if len(page.Quotes) > int(limit) {
		page.Quotes = page.Quotes[:limit]
	}
	return json.Marshal(page)
}

// ParseSize reads a byte count: plain digits or a number with a unit
// B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB, PiB (powers of
// 1024), e.g. "10GiB".
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mul    int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"PiB", 1 << 50},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15}, {"B", 1},
	}
	return parseWithUnit(s, units)
}

// ParseDuration reads seconds: plain digits or a number with a unit
// s, m, h, d, w, mo (30 days), y (365 days), e.g. "30d".
func ParseDuration(s string) (int64, error) {
	units := []struct {
		suffix string
		mul    int64
	}{
		{"mo", MonthSeconds}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400}, {"y", 365 * 86400},
	}
	return parseWithUnit(s, units)
}

func parseWithUnit(s string, units []struct {
	suffix string
	mul    int64
}) (int64, error) {
	s = strings.TrimSpace(s)
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mul
			break
		}
	}
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	// Allow decimals such as 1.5GiB, exactly.
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return 0, strconv.ErrSyntax
	}
	r.Mul(r, new(big.Rat).SetInt64(mul))
	if !r.IsInt() || r.Num().BitLen() > 62 {
		return 0, strconv.ErrRange
	}
	return r.Num().Int64(), nil
}
