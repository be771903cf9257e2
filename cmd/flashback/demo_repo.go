package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/flashback-network/flashback/bridge/daemon"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/oracle"
	"github.com/flashback-network/flashback/storage"
)

// The repository part of the demo: unit B's bridge is broken on purpose,
// so a third provider (C, the dev key provider3, local disk) joins and
// alice mirrors a repository over A and C with write quorum 1 (two
// healthy members; a quorum of 2 could not write with one killed). The
// gateway runs in-process in chain mode; bridge C is killed and restarted.
const (
	demoProvider3Key = "provider3"
	demoRepoName     = "demo-mirror"
	demoRepoObjects  = 5
	demoRepoObjSize  = 256 << 10
)

// DemoRepo is the repository part of the report.
type DemoRepo struct {
	Name    string   `json:"name"`
	Mode    string   `json:"mode"`
	Quorum  uint32   `json:"quorum"`
	Members []string `json:"members"` // reservation ids (A's, C's)
	Gateway string   `json:"gateway"`
	Objects int      `json:"objects"` // uploaded before the kill
	Bytes   int64    `json:"bytes"`
	// Killed is the member whose bridge was stopped (KilledUnit its unit).
	Killed     string `json:"killed"`
	KilledUnit string `json:"killed_unit"`
	// ReadsAfterKill GETs were made with the member down; ReadsExact of
	// them returned exactly the bytes uploaded.
	ReadsAfterKill int  `json:"reads_after_kill"`
	ReadsExact     int  `json:"reads_exact"`
	PutAfterKill   bool `json:"put_after_kill"`
	// Level: after the restart the repair loop found the member holding
	// every object (LevelSeconds from the restart); RepairedObjects it
	// copied to get there.
	Level           bool    `json:"level"`
	LevelSeconds    float64 `json:"level_seconds"`
	RepairedObjects int64   `json:"repaired_objects"`
}

// demoRepoState is what the repository steps pass along.
type demoRepoState struct {
	provC         *client.Signer
	unitC         string
	portC         int
	cfgC          *daemon.Config
	stopC         context.CancelFunc // kills bridge C
	doneC         chan error         // bridge C's Run result
	memberA       string
	memberC       string
	secretC, keyC string // C's member access key (to check C's bucket)
	repoKeyID     string
	repoKeySecret string
	gw            *demoGateway
	objects       map[string][]byte
	restartedAt   time.Time
}

func (d *demo) repoSteps() []demoStep {
	return []demoStep{
		{"provider C registers a local unit and its bridge serves", 30 * time.Second, d.registerProviderC},
		{"alice creates a mirror repository over A and C with a write repo key", 30 * time.Second, d.createDemoRepo},
		{"the gateway serves the repository; objects go up through it with the SDK", 30 * time.Second, d.repoUpload},
		{"bridge C is killed: every GET is exact and a PUT still succeeds", 30 * time.Second, d.repoKillMember},
		{"bridge C restarts and the repair loop brings it level", 30 * time.Second, d.repoRepairLevel},
	}
}

// registerProviderC has provider3 register, stake and add a local unit,
// and starts its bridge under its own context (so it can be killed).
func (d *demo) registerProviderC(ctx context.Context) (string, error) {
	kr, err := keyring.Open(filepath.Join(d.home, "keyring"))
	if err != nil {
		return "", err
	}
	priv, err := kr.PrivKey(demoProvider3Key, nil)
	if err != nil {
		return "", err
	}
	rs := &d.repo
	rs.provC = d.c.Signer(priv)
	if rs.portC, err = freePorts(1, oracle.PortOffset); err != nil {
		return "", err
	}
	home := d.bridgeHome(2)
	pub, _, err := daemon.LoadOrCreateKey(home)
	if err != nil {
		return "", err
	}
	if _, err := rs.provC.Submit(ctx,
		&market.MsgRegisterProvider{Name: "Cedar Disk (healthy)", Description: "flashback demo provider", Website: "https://localhost",
			Endpoint: fmt.Sprintf("http://127.0.0.1:%d", rs.portC), BridgePubKey: pub[:]},
		&market.MsgStake{Amount: demoStake}); err != nil {
		return "", fmt.Errorf("register provider C: %w", err)
	}
	if rs.unitC, _, err = rs.provC.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "local", Country: "US",
		Capacity: demoUnitSize, StoragePrice: demoPriceA, EgressPrice: 10_000, AutoAccept: true,
		SLA: market.SLAOffer{MaxP95LatencyMs: 2000, MinUptimeBps: 9000, MinDownloadMbps: 1, MinUploadMbps: 1, MaxErrorRateBps: 1000, Durability: true}}); err != nil {
		return "", fmt.Errorf("add unit of provider C: %w", err)
	}
	d.rep.Units["c"] = rs.unitC
	rs.cfgC = &daemon.Config{Node: d.apiURL, ProviderKey: demoProvider3Key, Listen: fmt.Sprintf("127.0.0.1:%d", rs.portC),
		MetricsListen: fmt.Sprintf("127.0.0.1:%d", rs.portC+oracle.PortOffset), Region: "us-east-1",
		Units: map[string]storage.Config{rs.unitC: {Kind: storage.KindLocal, Local: &storage.LocalConfig{Root: filepath.Join(home, "unit-data")}}}}
	if err := daemon.SaveConfig(home, rs.cfgC); err != nil {
		return "", err
	}
	if err := d.startBridgeC(ctx, priv); err != nil {
		return "", err
	}
	return fmt.Sprintf("C %s: unit %s (local disk), bridge at http://%s", short(rs.provC.Address()), rs.unitC, rs.cfgC.Listen), nil
}

// startBridgeC runs bridge C until stopC or the demo's end and returns
// once it serves.
func (d *demo) startBridgeC(ctx context.Context, priv []byte) error {
	rs := &d.repo
	bctx, stop := context.WithCancel(d.ctx)
	ready := make(chan struct{}, 1)
	done := make(chan error, 1)
	rs.stopC, rs.doneC = stop, done
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		done <- daemon.Run(bctx, d.bridgeHome(2), rs.cfgC, daemon.Options{ProviderPriv: priv, Log: d.logw,
			Ready: func(string, string) { ready <- struct{}{} }})
	}()
	select {
	case <-ready:
		return nil
	case err := <-done:
		stop()
		return fmt.Errorf("bridge C: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// createDemoRepo reserves on A and C, makes a write access key for each
// member (accepted by its bridge), creates the mirror repository sealed
// to the demo gateway's key and a write repo key.
func (d *demo) createDemoRepo(ctx context.Context) (string, error) {
	rs := &d.repo
	gwPub, err := d.demoGatewayKey()
	if err != nil {
		return "", err
	}
	sp := client.RepoSpec{Name: demoRepoName, Mode: repo.ModeMirror, Quorum: 1, NoEncryption: true, GatewayPubKey: gwPub[:]}
	for i, u := range []string{d.unitA, rs.unitC} {
		id, _, err := d.alice.Reserve(ctx, market.MsgReserve{Unit: u, Bytes: demoResSize, Term: demoResTerm, EgressBytes: 1 << 30, MaxPrice: demoPriceA})
		if err != nil {
			return "", fmt.Errorf("reserve on %s: %w", u, err)
		}
		k, err := d.alice.CreateAccessKey(ctx, id, accesskey.PermWrite)
		if err != nil {
			return "", fmt.Errorf("member key for %s: %w", id, err)
		}
		if err := k.Bucket().WaitReady(ctx, 15*time.Second); err != nil {
			return "", fmt.Errorf("member key for %s: %w", id, err)
		}
		if i == 0 {
			rs.memberA = id
		} else {
			rs.memberC, rs.keyC, rs.secretC = id, k.AccessKeyID, k.Secret
		}
		sp.Members = append(sp.Members, client.RepoMemberInput{Reservation: id, AccessKeyID: k.AccessKeyID, Secret: k.Secret})
	}
	if _, err := d.alice.CreateRepo(ctx, sp); err != nil {
		return "", fmt.Errorf("create repository %s: %w", demoRepoName, err)
	}
	nk, err := d.alice.CreateRepoKey(ctx, demoRepoName, accesskey.PermWrite)
	if err != nil {
		return "", fmt.Errorf("repo key: %w", err)
	}
	rs.repoKeyID, rs.repoKeySecret = nk.ID, nk.Secret
	d.rep.Repo = &DemoRepo{Name: demoRepoName, Mode: repo.ModeMirror, Quorum: 1, Members: []string{rs.memberA, rs.memberC}}
	return fmt.Sprintf("%s (mirror, quorum 1): members %s on A and %s on C; repo key %s", demoRepoName, rs.memberA, rs.memberC, nk.ID), nil
}
