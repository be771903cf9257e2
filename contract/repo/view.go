package repo

import (
	"fmt"
	"strings"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// memberView is the REST view of one member with its health: degraded when
// its reservation is no longer active (ended, cancelled), its unit is
// suspended by QoS or in maintenance, its provider has left, or its access
// key is gone (revoked; keys die with their reservation).
func (k *Keeper) memberView(kv store.KV, m *Member) types.RepoMember {
	v := types.RepoMember{Reservation: m.Reservation, Unit: m.Unit, Provider: m.Provider, State: m.State,
		Replaces: m.Replaces, AccessKeyID: m.AccessKeyID, SealedSecret: m.SealedSecret, JoinedAt: m.JoinedAt,
		Health: types.HealthOK}
	if p, ok := k.mk.Provider(kv, m.Provider); ok {
		v.BridgeEndpoint = p.Endpoint
		if p.Deregistered {
			v.Health, v.HealthReason = types.HealthDegraded, fmt.Sprintf("provider %s has deregistered", m.Provider)
		}
	}
	r, ok := k.mk.Reservation(kv, m.Reservation)
	if !ok {
		v.Health, v.HealthReason = types.HealthDegraded, fmt.Sprintf("reservation %s no longer exists", m.Reservation)
		return v
	}
	v.ReservationStatus = r.Status
	switch {
	case r.Status != market.ResActive:
		v.Health, v.HealthReason = types.HealthDegraded, fmt.Sprintf("reservation %s is %s; replace the member", r.ID, r.Status)
	case k.mk.UnitSuspended(kv, m.Unit):
		v.Health, v.HealthReason = types.HealthDegraded, fmt.Sprintf("unit %s is suspended for a low QoS score", m.Unit)
	case kv.Get(accesskey.RecordKey(m.AccessKeyID)) == nil:
		v.Health, v.HealthReason = types.HealthDegraded, fmt.Sprintf("the member's access key %s was revoked; replace the member with a new key", m.AccessKeyID)
	default:
		if u, ok := k.mk.Unit(kv, m.Unit); ok && u.Status == market.UnitMaintenance {
			v.Health, v.HealthReason = types.HealthDegraded, fmt.Sprintf("unit %s is in maintenance", m.Unit)
		}
	}
	return v
}

// View is the REST view of r as of the last block, with its members'
// health and the repository's status.
func (k *Keeper) View(kv store.KV, r *Repo) types.Repo {
	v := types.Repo{Owner: r.Owner, Name: r.Name, Mode: r.Mode, WriteQuorum: r.Quorum, Encrypted: r.Encrypted,
		GatewayPubKey: r.GatewayPubKey, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Members: make([]types.RepoMember, 0, len(r.Members)), Status: types.HealthOK}
	var degraded []string
	healthyServing := 0
	for i := range r.Members {
		mv := k.memberView(kv, &r.Members[i])
		if mv.Health == types.HealthOK {
			v.HealthyMembers++
			if r.Members[i].serving() {
				healthyServing++
			}
		} else {
			degraded = append(degraded, mv.Reservation)
		}
		v.Members = append(v.Members, mv)
	}
	if len(degraded) == 0 {
		return v
	}
	v.Status = types.HealthDegraded
	switch {
	case r.Mode == ModeMirror && healthyServing < int(r.Quorum):
		v.BelowQuorum = true
		v.StatusReason = fmt.Sprintf("only %d healthy serving members, below the write quorum %d: writes fail until a degraded member (%s) is replaced or the quorum lowered", healthyServing, r.Quorum, strings.Join(degraded, ", "))
	case r.Mode == ModeMirror:
		v.StatusReason = fmt.Sprintf("degraded members %s; %d healthy serving members still meet the write quorum %d", strings.Join(degraded, ", "), healthyServing, r.Quorum)
	default:
		v.StatusReason = fmt.Sprintf("degraded members %s: their folders may be unavailable; replace them", strings.Join(degraded, ", "))
	}
	return v
}

// KeyView is the REST view of a repo key.
func (r *RepoKey) View() types.RepoKey {
	return types.RepoKey{ID: r.ID, Owner: r.Owner, Repo: r.Repo, Perm: r.Perm, SealedSecret: r.SealedSecret, CreatedAt: r.CreatedAt}
}
