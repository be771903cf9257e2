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
	s := startSDKScenario(t)
	s.bank()
	s.registerProvider()
	s.addUnits()
	s.adjustReservation()
	s.manualAcceptance()
	s.reportUsage()
	s.reportQoS()
	s.oracleLifecycle()
	s.claimRevenue()
	s.retire()
}

// sdkScenario is TestSDKTypedTxs's node, its signers and what its steps
// create, in the order they fill it in.
type sdkScenario struct {
	t                     *testing.T
	ctx                   context.Context
	c                     *client.Client
	p                     *types.Params
	alice, bob, prov, orc *client.Signer
	bridgePub             []byte
	stake                 core.Amount
	unitA, unitB, unitC   string // auto-accepting; manual; auto-accepting, later deleted
	resA                  string // alice's on unitA
}

func startSDKScenario(t *testing.T) *sdkScenario {
	base := freeBase(t, 1)
	const epochSeconds = 2
	home, _, c := startDevNodeParams(t, "e2e-sdk", base, map[string]any{"epoch_seconds": epochSeconds})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	s := &sdkScenario{t: t, ctx: ctx, c: c}
	var err error
	s.p, err = c.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.alice, s.bob = c.Signer(devKey(t, home, "alice")), c.Signer(devKey(t, home, "bob"))
	s.prov, s.orc = c.Signer(devKey(t, home, "provider")), c.Signer(devKey(t, home, "oracle"))
	return s
}

func (s *sdkScenario) must(what string, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

func (s *sdkScenario) balance(addr string) core.Amount {
	s.t.Helper()
	a, err := s.c.Account(s.ctx, addr)
	s.must("account "+addr, err)
	return a.Balance
}

func (s *sdkScenario) reservation(id string) *types.ReservationView {
	s.t.Helper()
	r, err := s.c.Reservation(s.ctx, id)
	s.must("reservation "+id, err)
	return r
}

func (s *sdkScenario) unit(id string) *types.UnitView {
	s.t.Helper()
	u, err := s.c.Unit(s.ctx, id)
	s.must("unit "+id, err)
	return u
}

// bank: a send, one rejected in its block (more than alice has) and one
// refused before a block (an invalid recipient).
func (s *sdkScenario) bank() {
	t, ctx, alice, bob := s.t, s.ctx, s.alice, s.bob
	bobBefore := s.balance(bob.Address())
	_, err := alice.Send(ctx, bob.Address(), 5_000_000)
	s.must("send", err)
	if got := s.balance(bob.Address()); got != bobBefore+5_000_000 {
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
}

// registerProvider registers, renames and stakes the provider.
func (s *sdkScenario) registerProvider() {
	t, ctx, prov := s.t, s.ctx, s.prov
	bridgeKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	s.must("bridge key", err)
	s.bridgePub = bridgeKey.PublicKey().Bytes()
	_, err = prov.RegisterProvider(ctx, market.MsgRegisterProvider{Name: "sdk", Endpoint: "http://127.0.0.1:1", BridgePubKey: s.bridgePub})
	s.must("register provider", err)
	name := "sdk renamed"
	_, err = prov.UpdateProvider(ctx, market.MsgUpdateProvider{Name: &name})
	s.must("update provider", err)
	s.stake = 3*s.p.MinUnitStake + 1_000_000 // three units and a little to unstake
	_, err = prov.Stake(ctx, s.stake)
	s.must("stake", err)
	pv, err := s.c.Provider(ctx, prov.Address())
	s.must("provider", err)
	if pv.Name != name || pv.Stake != s.stake {
		t.Fatalf("provider after update and stake: %+v", pv.Provider)
	}
}

// addUnits adds three units, updates one and takes another through
// maintenance.
func (s *sdkScenario) addUnits() {
	t, ctx, prov := s.t, s.ctx, s.prov
	addUnit := func(autoAccept bool) string {
		t.Helper()
		id, res, err := prov.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE", Capacity: 100 << 30,
			StoragePrice: 2_000_000, EgressPrice: 10_000, AutoAccept: autoAccept, SLA: market.SLAOffer{MaxP95LatencyMs: 1000}})
		s.must("add unit", err)
		if id == "" || client.EventAttr(res, "unit_added", "unit") != id || s.unit(id).ID != id {
			t.Fatalf("add unit: id %q, tx %+v", id, res)
		}
		return id
	}
	s.unitA, s.unitB, s.unitC = addUnit(true), addUnit(false), addUnit(true)
	unitA, unitC := s.unitA, s.unitC
	if unitA == s.unitB || s.unitB == unitC {
		t.Fatalf("unit ids %s %s %s", unitA, s.unitB, unitC)
	}
	egressPrice := core.Amount(20_000)
	_, err := prov.UpdateUnit(ctx, market.MsgUpdateUnit{Unit: unitA, EgressPrice: &egressPrice})
	s.must("update unit", err)
	if u := s.unit(unitA); u.EgressPrice != egressPrice {
		t.Fatalf("egress price %d after update", u.EgressPrice)
	}
	_, err = prov.UnitMaintenance(ctx, market.MsgUnitMaintenance{Unit: unitC, Action: market.MaintenanceStart, WindowEnd: 4102444800}) // 2100-01-01
	s.must("maintenance start", err)
	if u := s.unit(unitC); u.Status != market.UnitMaintenance {
		t.Fatalf("unit %s is %s after maintenance start", unitC, u.Status)
	}
	_, err = prov.UnitMaintenance(ctx, market.MsgUnitMaintenance{Unit: unitC, Action: market.MaintenanceEnd})
	s.must("maintenance end", err)
	if u := s.unit(unitC); u.Status != market.UnitAvailable {
		t.Fatalf("unit %s is %s after maintenance end", unitC, u.Status)
	}
}

// adjustReservation: alice reserves on unit A, tops up, extends, resizes,
// and creates and revokes an access key.
func (s *sdkScenario) adjustReservation() {
	t, ctx, alice := s.t, s.ctx, s.alice
	resA, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: s.unitA, Bytes: 1 << 30, Term: 86400, EgressBytes: 1 << 30, MaxPrice: 2_000_000})
	s.must("reserve", err)
	s.resA = resA
	r0 := s.reservation(resA)
	if r0.Status != market.ResActive || r0.Unit != s.unitA || r0.Consumer != alice.Address() {
		t.Fatalf("reservation %s: %+v", resA, r0.Reservation)
	}
	_, err = alice.TopUp(ctx, resA, 1<<30)
	s.must("top up", err)
	_, err = alice.Extend(ctx, resA, 3600)
	s.must("extend", err)
	_, err = alice.Resize(ctx, resA, 2<<30)
	s.must("resize", err)
	r1 := s.reservation(resA)
	if r1.EgressBytes != 2<<30 || r1.End <= r0.End || r1.Bytes != 2<<30 || r1.Escrowed <= r0.Escrowed {
		t.Fatalf("after top-up, extend and resize: %+v (was %+v)", r1.Reservation, r0.Reservation)
	}
	key, err := alice.CreateAccessKey(ctx, resA, accesskey.PermRead)
	s.must("create access key", err)
	_, err = alice.RevokeAccessKey(ctx, key.AccessKeyID)
	s.must("revoke access key", err)
	keys, err := s.c.AccessKeys(ctx, resA, "", "")
	s.must("access keys", err)
	if len(keys.AccessKeys) != 0 {
		t.Fatalf("keys after revoke: %+v", keys.AccessKeys)
	}
}

// manualAcceptance: on unit B a reservation waits; one rejected refunds,
// another accepted, then closed.
func (s *sdkScenario) manualAcceptance() {
	t, ctx, alice, prov := s.t, s.ctx, s.alice, s.prov
	resB1, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: s.unitB, Bytes: 1 << 30, Term: 86400, MaxPrice: 2_000_000})
	s.must("reserve pending", err)
	if st := s.reservation(resB1).Status; st != market.ResPending {
		t.Fatalf("reservation on a manual-accept unit is %s", st)
	}
	aliceBefore := s.balance(alice.Address())
	_, err = prov.RejectReservation(ctx, resB1)
	s.must("reject", err)
	if r := s.reservation(resB1); r.Status != market.ResRejected || s.balance(alice.Address()) != aliceBefore+r.Escrowed {
		t.Fatalf("rejected reservation %+v; alice %d -> %d", r.Reservation, aliceBefore, s.balance(alice.Address()))
	}
	resB2, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: s.unitB, Bytes: 1 << 30, Term: 86400, MaxPrice: 2_000_000})
	s.must("reserve again", err)
	if resB2 == resB1 {
		t.Fatalf("same reservation id %s twice", resB2)
	}
	_, err = prov.AcceptReservation(ctx, resB2)
	s.must("accept", err)
	if st := s.reservation(resB2).Status; st != market.ResActive {
		t.Fatalf("accepted reservation is %s", st)
	}
	_, err = alice.CloseReservation(ctx, resB2)
	s.must("close", err)
	if st := s.reservation(resB2).Status; st != market.ResCompleted && st != market.ResCancelled {
		t.Fatalf("closed reservation is %s", st)
	}
}

// reportUsage: usage, as the bridge reports it; egress is paid to the
// provider at once.
func (s *sdkScenario) reportUsage() {
	t, ctx, prov, p := s.t, s.ctx, s.prov, s.p
	st, err := s.c.Status(ctx)
	s.must("status", err)
	provBefore := s.balance(prov.Address())
	_, err = prov.ReportUsage(ctx, market.MsgReportUsage{Reservation: s.resA, Epoch: st.LatestBlockTime.Unix() / p.EpochSeconds, StoredBytes: 1 << 20, EgressBytes: 1 << 20})
	s.must("report usage", err)
	if r := s.reservation(s.resA); r.EgressUsed != 1<<20 || r.StoredBytes != 1<<20 || r.EgressPaid == 0 {
		t.Fatalf("after a usage report: %+v", r.Reservation)
	} else if got := s.balance(prov.Address()); got != provBefore+r.EgressPaid-p.TxFee {
		t.Fatalf("provider %d -> %d, egress paid %d, fee %d", provBefore, got, r.EgressPaid, p.TxFee)
	}
}

// reportQoS registers the oracle and has it report an epoch that has ended
// and that unit A existed in; reports are taken only in the epoch right
// after, so it retries if it rolled over.
func (s *sdkScenario) reportQoS() {
	t, ctx, c, orc, p, unitA := s.t, s.ctx, s.c, s.orc, s.p, s.unitA
	_, err := orc.RegisterOracle(ctx, p.MinOracleStake)
	s.must("register oracle", err)
	createdEpoch := int64(s.unit(unitA).CreatedAt) / p.EpochSeconds
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
		s.must("report", err)
		return nil
	})
}

// oracleLifecycle checks the oracle's report counted, that an unbreached
// reservation has no compensation (typed code), and deregisters the oracle.
func (s *sdkScenario) oracleLifecycle() {
	t, ctx, c, orc, p := s.t, s.ctx, s.c, s.orc, s.p
	ov, err := c.Oracle(ctx, orc.Address())
	s.must("oracle", err)
	if !ov.Active || ov.Reports != 1 || ov.Stake != p.MinOracleStake {
		t.Fatalf("oracle after a report: %+v", ov.Oracle)
	}
	// Unit A was never breached: nothing to claim, with the typed code.
	amt, res, err := s.alice.ClaimCompensation(ctx, s.resA)
	var te *client.TxError
	if !errors.As(err, &te) || te.Code() != core.CodeNotFound || amt != 0 || res == nil {
		t.Fatalf("compensation claim without a breach: %d %T %v", amt, err, err)
	}
	_, err = orc.DeregisterOracle(ctx)
	s.must("deregister oracle", err)
	if ov, err := c.Oracle(ctx, orc.Address()); err != nil || ov.Active || ov.UnbondingTotal != p.MinOracleStake {
		t.Fatalf("oracle after deregister: %+v %v", ov, err)
	}
}

// claimRevenue: once unit A has final revenue the provider claims it,
// then unstakes a little.
func (s *sdkScenario) claimRevenue() {
	t, ctx, prov, p, unitA := s.t, s.ctx, s.prov, s.p, s.unitA
	eventually(t, 30*time.Second, func() error {
		if u := s.unit(unitA); u.Claimable == 0 {
			return fmt.Errorf("unit %s has no final revenue yet", unitA)
		}
		return nil
	})
	provBefore := s.balance(prov.Address())
	claimed, _, err := prov.Claim(ctx, unitA)
	s.must("claim", err)
	if claimed == 0 || s.balance(prov.Address()) != provBefore+claimed-p.TxFee {
		t.Fatalf("claimed %d: provider %d -> %d (fee %d)", claimed, provBefore, s.balance(prov.Address()), p.TxFee)
	}
	_, err = prov.Unstake(ctx, 1_000_000)
	s.must("unstake", err)
	if pv, err := s.c.Provider(ctx, prov.Address()); err != nil || pv.Stake != s.stake-1_000_000 || pv.UnbondingTotal != 1_000_000 {
		t.Fatalf("provider after unstake: %+v %v", pv, err)
	}
}

// retire decommissions and deletes unit C, and a provider with no units
// (bob) registers and retires.
func (s *sdkScenario) retire() {
	t, ctx, prov, bob, unitC := s.t, s.ctx, s.prov, s.bob, s.unitC
	_, err := prov.DecommissionUnit(ctx, unitC)
	s.must("decommission", err)
	if st := s.unit(unitC).Status; st != market.UnitDecommissioning {
		t.Fatalf("decommissioned unit is %s", st)
	}
	_, err = prov.DeleteUnit(ctx, unitC)
	s.must("delete unit", err)
	if st := s.unit(unitC).Status; st != market.UnitDeleted {
		t.Fatalf("deleted unit is %s", st)
	}
	// A provider with no units retires.
	_, err = bob.RegisterProvider(ctx, market.MsgRegisterProvider{Name: "bob", Endpoint: "http://127.0.0.1:2", BridgePubKey: s.bridgePub})
	s.must("register bob", err)
	_, err = bob.DeregisterProvider(ctx)
	s.must("deregister bob", err)
	if pv, err := s.c.Provider(ctx, bob.Address()); err != nil || !pv.Deregistered {
		t.Fatalf("bob after deregister: %+v %v", pv, err)
	}
}
