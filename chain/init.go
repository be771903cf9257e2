package chain

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	cmttime "github.com/cometbft/cometbft/types/time"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/keyring"
)

// DevKeys are the unencrypted keys `init --dev` creates and funds: users for
// trying things and one per role later parts of the platform need.
var DevKeys = []string{"alice", "bob", "provider", "oracle", "provider2", "provider3"}

// DevBalance is what each dev key gets in genesis: 1,000,000 FLASH.
const DevBalance = core.Amount(1_000_000_000_000)

// DevParams are the defaults with time scaled down so that a developer sees
// epochs end, revenue settle and unbonding finish within minutes.
func DevParams() params.Params {
	p := params.Default()
	p.EpochSeconds = 10
	p.AcceptTimeout = 600
	p.UnbondingPeriod = 120
	p.ScorePeriodEpochs = 6 // scores move every minute
	return p
}

// InitOptions configure a new node home.
type InitOptions struct {
	Home      string
	ChainID   string
	Moniker   string
	Dev       bool
	BlockTime time.Duration
	APIAddr   string
	// Accounts are extra genesis accounts.
	Accounts []contract.GenesisAccount
	Params   *params.Params
	// BasePort, when set, puts P2P on BasePort, CometBFT RPC on +1 and the
	// REST API on +2 (unless APIAddr is given), so several nodes can share
	// a machine.
	BasePort int
}

// Init writes a single-validator home: config, validator and node keys, and
// genesis. With Dev it also creates and funds the dev keys.
func Init(o InitOptions) error {
	if o.ChainID == "" {
		return fmt.Errorf("chain id is required")
	}
	if _, err := os.Stat(filepath.Join(o.Home, "config", "genesis.json")); err == nil {
		return fmt.Errorf("%s already holds a node (genesis.json exists); use another --home or remove it", o.Home)
	}
	c, err := writeHome(o.Home, o.Moniker, o.BlockTime, o.Dev)
	if err != nil {
		return err
	}
	api := o.APIAddr
	if o.BasePort > 0 {
		c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", o.BasePort)
		c.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", o.BasePort+1)
		cfg.WriteConfigFile(filepath.Join(o.Home, "config", "config.toml"), c)
		if api == "" {
			api = fmt.Sprintf("127.0.0.1:%d", o.BasePort+2)
		}
	}
	if api == "" {
		api = DefaultAPIAddr
	}
	if err := writeAppConfig(o.Home, AppConfig{APIAddr: api}); err != nil {
		return err
	}
	pv := privval.LoadOrGenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	pub, err := pv.GetPubKey()
	if err != nil {
		return err
	}
	accounts := append([]contract.GenesisAccount(nil), o.Accounts...)
	if o.Dev {
		kr, err := keyring.Open(filepath.Join(o.Home, "keyring"))
		if err != nil {
			return err
		}
		for _, name := range DevKeys {
			k, err := kr.Add(name, nil)
			if err != nil {
				return fmt.Errorf("dev key %s: %w", name, err)
			}
			accounts = append(accounts, contract.GenesisAccount{Address: k.Address, Balance: DevBalance})
		}
	}
	params := params.Default()
	if o.Dev {
		params = DevParams()
	}
	if o.Params != nil {
		params = *o.Params
	}
	vals := []cmttypes.GenesisValidator{{Address: pub.Address(), PubKey: pub, Power: 10, Name: o.Moniker}}
	return writeGenesis(c.GenesisFile(), o.ChainID, vals, contract.Genesis{Params: params, Accounts: accounts})
}

func writeHome(home, moniker string, blockTime time.Duration, dev bool) (*cfg.Config, error) {
	if moniker == "" {
		moniker = "flashback"
	}
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(home, "data"), 0o700); err != nil {
		return nil, err
	}
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = moniker
	if blockTime == 0 {
		blockTime = time.Second
		if dev {
			blockTime = 500 * time.Millisecond
		}
	}
	setBlockTime(c, blockTime)
	c.TxIndex.Indexer = "kv"
	c.Instrumentation.Prometheus = false
	c.LogLevel = "error"
	cfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), c)
	if _, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile()); err != nil {
		return nil, err
	}
	return c, nil
}

func writeGenesis(path, chainID string, vals []cmttypes.GenesisValidator, g contract.Genesis) error {
	state, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	doc := &cmttypes.GenesisDoc{
		ChainID:         chainID,
		GenesisTime:     cmttime.Now(),
		InitialHeight:   1,
		ConsensusParams: cmttypes.DefaultConsensusParams(),
		Validators:      vals,
		AppState:        state,
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return fmt.Errorf("genesis: %w", err)
	}
	return doc.SaveAs(path)
}

// TestnetOptions configure a multi-validator network on one machine.
type TestnetOptions struct {
	Output     string
	ChainID    string
	Validators int
	BlockTime  time.Duration
	// BasePort is the first port; validator i uses BasePort+10*i for P2P,
	// +1 for CometBFT RPC, +2 for the REST API.
	BasePort int
	Accounts []contract.GenesisAccount
}

// Testnet writes homes node0…nodeN-1 under Output, sharing one genesis and
// peering with each other on 127.0.0.1. Node 0's home also gets the dev keys,
// funded.
func Testnet(o TestnetOptions) ([]string, error) {
	if o.Validators < 1 {
		return nil, fmt.Errorf("need at least one validator")
	}
	if o.BasePort == 0 {
		o.BasePort = 26600
	}
	homes := make([]string, o.Validators)
	configs := make([]*cfg.Config, o.Validators)
	var vals []cmttypes.GenesisValidator
	var peers []string
	accounts := append([]contract.GenesisAccount(nil), o.Accounts...)
	for i := range homes {
		homes[i] = filepath.Join(o.Output, fmt.Sprintf("node%d", i))
		if _, err := os.Stat(filepath.Join(homes[i], "config", "genesis.json")); err == nil {
			return nil, fmt.Errorf("%s already holds a node", homes[i])
		}
		c, err := writeHome(homes[i], fmt.Sprintf("node%d", i), o.BlockTime, false)
		if err != nil {
			return nil, err
		}
		port := o.BasePort + 10*i
		c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", port)
		c.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", port+1)
		c.P2P.AllowDuplicateIP = true
		c.P2P.AddrBookStrict = false
		configs[i] = c
		if err := writeAppConfig(homes[i], AppConfig{APIAddr: fmt.Sprintf("127.0.0.1:%d", port+2)}); err != nil {
			return nil, err
		}
		pv := privval.LoadOrGenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
		pub, err := pv.GetPubKey()
		if err != nil {
			return nil, err
		}
		vals = append(vals, cmttypes.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: c.Moniker})
		nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
		if err != nil {
			return nil, err
		}
		peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", nk.ID(), port))
	}
	kr, err := keyring.Open(filepath.Join(homes[0], "keyring"))
	if err != nil {
		return nil, err
	}
	for _, name := range DevKeys {
		k, err := kr.Add(name, nil)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, contract.GenesisAccount{Address: k.Address, Balance: DevBalance})
	}
	g := contract.Genesis{Params: params.Default(), Accounts: accounts}
	for i, c := range configs {
		var others []string
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		c.P2P.PersistentPeers = joinComma(others)
		cfg.WriteConfigFile(filepath.Join(homes[i], "config", "config.toml"), c)
		if err := writeGenesis(c.GenesisFile(), o.ChainID, vals, g); err != nil {
			return nil, err
		}
	}
	// One genesis for all: copy node0's so genesis_time is identical.
	b, err := os.ReadFile(configs[0].GenesisFile())
	if err != nil {
		return nil, err
	}
	for _, c := range configs[1:] {
		if err := os.WriteFile(c.GenesisFile(), b, 0o644); err != nil {
			return nil, err
		}
	}
	return homes, nil
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
