package e2e

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// TestSDKTypedTxs drives every typed tx method of client.Signer against a
// real node process (2 s epochs) and checks each effect through the REST
// API, plus rejections with their typed codes: a tx failed in its block
// (*client.TxError) and one refused before it (*client.Error).
func TestSDKTypedTxs(t *testing.T) {
	base := freeBase(t, 1)
	const epochSeconds = 2
	home, _, c := startDevNodeParams(t, "e2e-sdk", base, map[string]any{"epoch_seconds": epochSeconds})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	p, err := c.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := c.Signer(devKey(t, home, "alice")), c.Signer(devKey(t, home, "bob"))
	prov, orc := c.Signer(devKey(t, home, "provider")), c.Signer(devKey(t, home, "oracle"))
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	balance := func(addr string) core.Amount {
		t.Helper()
		a, err := c.Account(ctx, addr)
		must("account "+addr, err)
		return a.Balance
	}
	reservation := func(id string) *types.ReservationView {
		t.Helper()
		r, err := c.Reservation(ctx, id)
		must("reservation "+id, err)
		return r
	}
	unit := func(id string) *types.UnitView {
		t.Helper()
		u, err := c.Unit(ctx, id)
		must("unit "+id, err)
		return u
	}

	// ---- bank ----
	bobBefore := balance(bob.Address())
	_, err = alice.Send(ctx, bob.Address(), 5_000_000)
	must("send", err)
	if got := balance(bob.Address()); got != bobBefore+5_000_000 {
		t.Fatalf("bob %d -> %d after a 5 FLASH send", bobBefore, got)
	}
	// Rejected in its block: more than alice has.
	res, err := alice.Send(ctx, bob.Address(), core.Amount(1)<<62)
	var te *client.TxError
	if !errors.As(err, &te) || te.Code() != core.CodeInsufficientFunds || !client.IsCode(err, core.CodeInsufficientFunds) ||
		client.CodeOf(err) != core.CodeInsufficientFunds.Name() || res == nil || res.Code != uint32(core.CodeInsufficientFunds) {
		t.Fatalf("overdraft: %T %v (result %+v)", err, err, res)
	}
	// Refused before a block: an invalid recipient (*client.Error).
	_, err = alice.Send(ctx, "fb1notanaddress", 1)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.ABCICode != core.CodeInvalidAddress || !client.IsCode(err, core.CodeInvalidAddress) || client.IsCode(err, core.CodeNotFound) {
		t.Fatalf("send to an invalid address: %T %v", err, err)
	}

	// ---- providers and units ----
	bridgeKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	must("bridge key", err)
	_, err = prov.RegisterProvider(ctx, market.MsgRegisterProvider{Name: "sdk", Endpoint: "http://127.0.0.1:1", BridgePubKey: bridgeKey.PublicKey().Bytes()})
	must("register provider", err)
	name := "sdk renamed"
	_, err = prov.UpdateProvider(ctx, market.MsgUpdateProvider{Name: &name})
	must("update provider", err)
	stake := 3*p.MinUnitStake + 1_000_000 // three units and a little to unstake
	_, err = prov.Stake(ctx, stake)
	must("stake", err)
	pv, err := c.Provider(ctx, prov.Address())
	must("provider", err)
	if pv.Name != name || pv.Stake != stake {
		t.Fatalf("provider after update and stake: %+v", pv.Provider)
	}
	addUnit := func(autoAccept bool) string {
		t.Helper()
		id, res, err := prov.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE", Capacity: 100 << 30,
			StoragePrice: 2_000_000, EgressPrice: 10_000, AutoAccept: autoAccept, SLA: market.SLAOffer{MaxP95LatencyMs: 1000}})
		must("add unit", err)
		if id == "" || client.EventAttr(res, "unit_added", "unit") != id || unit(id).ID != id {
			t.Fatalf("add unit: id %q, tx %+v", id, res)
		}
		return id
	}
	unitA, unitB, unitC := addUnit(true), addUnit(false), addUnit(true)
	if unitA == unitB || unitB == unitC {
		t.Fatalf("unit ids %s %s %s", unitA, unitB, unitC)
	}
	egressPrice := core.Amount(20_000)
	_, err = prov.UpdateUnit(ctx, market.MsgUpdateUnit{Unit: unitA, EgressPrice: &egressPrice})
	must("update unit", err)
	if u := unit(unitA); u.EgressPrice != egressPrice {
		t.Fatalf("egress price %d after update", u.EgressPrice)
	}
	_, err = prov.UnitMaintenance(ctx, market.MsgUnitMaintenance{Unit: unitC, Action: market.MaintenanceStart, WindowEnd: 4102444800}) // 2100-01-01
	must("maintenance start", err)
	if u := unit(unitC); u.Status != market.UnitMaintenance {
		t.Fatalf("unit %s is %s after maintenance start", unitC, u.Status)
	}
	_, err = prov.UnitMaintenance(ctx, market.MsgUnitMaintenance{Unit: unitC, Action: market.MaintenanceEnd})
	must("maintenance end", err)
	if u := unit(unitC); u.Status != market.UnitAvailable {
		t.Fatalf("unit %s is %s after maintenance end", unitC, u.Status)
	}

	// ---- reservations ----
	resA, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: unitA, Bytes: 1 << 30, Term: 86400, EgressBytes: 1 << 30, MaxPrice: 2_000_000})
	must("reserve", err)
	r0 := reservation(resA)
	if r0.Status != market.ResActive || r0.Unit != unitA || r0.Consumer != alice.Address() {
		t.Fatalf("reservation %s: %+v", resA, r0.Reservation)
	}
	_, err = alice.TopUp(ctx, resA, 1<<30)
	must("top up", err)
	_, err = alice.Extend(ctx, resA, 3600)
	must("extend", err)
	_, err = alice.Resize(ctx, resA, 2<<30)
	must("resize", err)
	r1 := reservation(resA)
	if r1.EgressBytes != 2<<30 || r1.End <= r0.End || r1.Bytes != 2<<30 || r1.Escrowed <= r0.Escrowed {
		t.Fatalf("after top-up, extend and resize: %+v (was %+v)", r1.Reservation, r0.Reservation)
	}
	key, err := alice.CreateAccessKey(ctx, resA, accesskey.PermRead)
	must("create access key", err)
	_, err = alice.RevokeAccessKey(ctx, key.AccessKeyID)
	must("revoke access key", err)
	keys, err := c.AccessKeys(ctx, resA, "", "")
	must("access keys", err)
	if len(keys.AccessKeys) != 0 {
		t.Fatalf("keys after revoke: %+v", keys.AccessKeys)
	}

	resB1, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: unitB, Bytes: 1 << 30, Term: 86400, MaxPrice: 2_000_000})
	must("reserve pending", err)
	if s := reservation(resB1).Status; s != market.ResPending {
		t.Fatalf("reservation on a manual-accept unit is %s", s)
	}
	aliceBefore := balance(alice.Address())
	_, err = prov.RejectReservation(ctx, resB1)
	must("reject", err)
	if r := reservation(resB1); r.Status != market.ResRejected || balance(alice.Address()) != aliceBefore+r.Escrowed {
		t.Fatalf("rejected reservation %+v; alice %d -> %d", r.Reservation, aliceBefore, balance(alice.Address()))
	}
	resB2, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: unitB, Bytes: 1 << 30, Term: 86400, MaxPrice: 2_000_000})
	must("reserve again", err)
	if resB2 == resB1 {
		t.Fatalf("same reservation id %s twice", resB2)
	}
	_, err = prov.AcceptReservation(ctx, resB2)
	must("accept", err)
	if s := reservation(resB2).Status; s != market.ResActive {
		t.Fatalf("accepted reservation is %s", s)
	}
	_, err = alice.CloseReservation(ctx, resB2)
	must("close", err)
	if s := reservation(resB2).Status; s != market.ResCompleted && s != market.ResCancelled {
		t.Fatalf("closed reservation is %s", s)
	}

	// Usage, as the bridge reports it: egress paid to the provider at once.
	st, err := c.Status(ctx)
	must("status", err)
	provBefore := balance(prov.Address())
	_, err = prov.ReportUsage(ctx, market.MsgReportUsage{Reservation: resA, Epoch: st.LatestBlockTime.Unix() / p.EpochSeconds, StoredBytes: 1 << 20, EgressBytes: 1 << 20})
	must("report usage", err)
	if r := reservation(resA); r.EgressUsed != 1<<20 || r.StoredBytes != 1<<20 || r.EgressPaid == 0 {
		t.Fatalf("after a usage report: %+v", r.Reservation)
	} else if got := balance(prov.Address()); got != provBefore+r.EgressPaid-p.TxFee {
		t.Fatalf("provider %d -> %d, egress paid %d, fee %d", provBefore, got, r.EgressPaid, p.TxFee)
	}

	// ---- QoS ----
	_, err = orc.RegisterOracle(ctx, p.MinOracleStake)
	must("register oracle", err)
	// Report an epoch that has ended and that unit A existed in; reports
	// are taken only in the epoch right after, so retry if it rolled over.
	createdEpoch := int64(unit(unitA).CreatedAt) / p.EpochSeconds
	eventually(t, 30*time.Second, func() error {
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		e := st.LatestBlockTime.Unix()/p.EpochSeconds - 1
		if e <= createdEpoch {
			return fmt.Errorf("epoch %d: unit %s created in epoch %d", e, unitA, createdEpoch)
		}
		_, err = orc.Report(ctx, qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{
			{Unit: unitA, Probes: 5, Successes: 5, P50Ms: 2, P95Ms: 3, DownMbps: 100, UpMbps: 50, IntegrityPassed: 1}}})
		if client.IsCode(err, core.CodeLateReport) {
			return err
		}
		must("report", err)
		return nil
	})
	ov, err := c.Oracle(ctx, orc.Address())
	must("oracle", err)
	if !ov.Active || ov.Reports != 1 || ov.Stake != p.MinOracleStake {
		t.Fatalf("oracle after a report: %+v", ov.Oracle)
	}
	// Unit A was never breached: nothing to claim, with the typed code.
	amt, res, err := alice.ClaimCompensation(ctx, resA)
	if !errors.As(err, &te) || te.Code() != core.CodeNotFound || amt != 0 || res == nil {
		t.Fatalf("compensation claim without a breach: %d %T %v", amt, err, err)
	}
	_, err = orc.DeregisterOracle(ctx)
	must("deregister oracle", err)
	if ov, err := c.Oracle(ctx, orc.Address()); err != nil || ov.Active || ov.UnbondingTotal != p.MinOracleStake {
		t.Fatalf("oracle after deregister: %+v %v", ov, err)
	}

	// ---- revenue, unstaking, retiring ----
	eventually(t, 30*time.Second, func() error {
		if u := unit(unitA); u.Claimable == 0 {
			return fmt.Errorf("unit %s has no final revenue yet", unitA)
		}
		return nil
	})
	provBefore = balance(prov.Address())
	claimed, _, err := prov.Claim(ctx, unitA)
	must("claim", err)
	if claimed == 0 || balance(prov.Address()) != provBefore+claimed-p.TxFee {
		t.Fatalf("claimed %d: provider %d -> %d (fee %d)", claimed, provBefore, balance(prov.Address()), p.TxFee)
	}
	_, err = prov.Unstake(ctx, 1_000_000)
	must("unstake", err)
	if pv, err := c.Provider(ctx, prov.Address()); err != nil || pv.Stake != stake-1_000_000 || pv.UnbondingTotal != 1_000_000 {
		t.Fatalf("provider after unstake: %+v %v", pv, err)
	}
	_, err = prov.DecommissionUnit(ctx, unitC)
	must("decommission", err)
	if s := unit(unitC).Status; s != market.UnitDecommissioning {
		t.Fatalf("decommissioned unit is %s", s)
	}
	_, err = prov.DeleteUnit(ctx, unitC)
	must("delete unit", err)
	if s := unit(unitC).Status; s != market.UnitDeleted {
		t.Fatalf("deleted unit is %s", s)
	}
	// A provider with no units retires.
	_, err = bob.RegisterProvider(ctx, market.MsgRegisterProvider{Name: "bob", Endpoint: "http://127.0.0.1:2", BridgePubKey: bridgeKey.PublicKey().Bytes()})
	must("register bob", err)
	_, err = bob.DeregisterProvider(ctx)
	must("deregister bob", err)
	if pv, err := c.Provider(ctx, bob.Address()); err != nil || !pv.Deregistered {
		t.Fatalf("bob after deregister: %+v %v", pv, err)
	}
}
