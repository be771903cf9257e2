// Package chaintest starts real in-process nodes for tests: a dev home in a
// temporary directory on free ports, started and stopped with the test. It
// imports only chain, so the tests of api and client can use it too.
package chaintest

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/keyring"
)

// FreeBasePort returns a port p with p, p+1 and p+2 free on 127.0.0.1 (a
// node's P2P, RPC and REST API ports).
func FreeBasePort(t testing.TB) int { t.Helper(); return FreePortRange(t, 3) }

// FreePortRange returns a multiple of 10, p, with p..p+n-1 free on
// 127.0.0.1 when it was checked. The ranges lie below the kernel's
// ephemeral ports (ip_local_port_range), where outgoing connections of
// parallel tests would otherwise take a port between the check and the
// server's listen (a bridge once failed with "address already in use" on
// such a port); within a process no range is handed out twice.
func FreePortRange(t testing.TB, n int) int {
	t.Helper()
	lo, hi := 10000, ephemeralLow()-n
	portsMu.Lock()
	defer portsMu.Unlock()
	for try := 0; try < 500; try++ {
		base := lo + 10*rand.IntN((hi-lo)/10)
		if portsTaken(base, n) {
			continue
		}
		ok := true
		for p := base; p < base+n && ok; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			portsGiven = append(portsGiven, [2]int{base, base + n})
			return base
		}
	}
	t.Fatalf("no %d free ports", n)
	return 0
}

var (
	portsMu    sync.Mutex
	portsGiven [][2]int // [start, end) of every range handed out
)

func portsTaken(base, n int) bool {
	for _, r := range portsGiven {
		if base < r[1] && r[0] < base+n {
			return true
		}
	}
	return false
}

// ephemeralLow is the first port the kernel gives outgoing connections
// (32768 when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 32768
	}
	v, err := strconv.Atoi(f[0])
	if err != nil || v < 12000 {
		return 32768
	}
	return v
}

// TempHome is a directory removed after the test. Not t.TempDir: CometBFT
// may still write its address book for a moment after Stop, which makes
// TempDir's strict cleanup fail; this one retries.
func TempHome(t testing.TB, prefix string) string {
	t.Helper()
	home, err := os.MkdirTemp("", "flashback-"+prefix+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(home) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	return home
}

// Options configure a dev node.
type Options struct {
	// Params default to chain.DevParams().
	Params *params.Params
	// BlockTime defaults to 100 ms.
	BlockTime time.Duration
	// AfterBlock is passed to the node (invariant checks).
	AfterBlock func(kv store.KV, height int64)
}

// Dev is a dev home (funded dev keys in genesis) with its node running.
type Dev struct {
	Home   string
	Node   *chain.Node
	Params params.Params
	opts   Options
}

// StartDev initializes a dev home for chainID and starts its node; the
// node stops when the test ends (or at Stop).
func StartDev(t testing.TB, chainID string, o Options) *Dev {
	t.Helper()
	p := chain.DevParams()
	if o.Params != nil {
		p = *o.Params
	}
	if o.BlockTime == 0 {
		o.BlockTime = 100 * time.Millisecond
	}
	d := &Dev{Home: TempHome(t, chainID), Params: p, opts: o}
	if err := chain.Init(chain.InitOptions{Home: d.Home, ChainID: chainID, Dev: true, BlockTime: o.BlockTime, BasePort: FreeBasePort(t), Params: &p}); err != nil {
		t.Fatal(err)
	}
	d.Start(t)
	return d
}

// Start starts the node on the home (again, after Stop).
func (d *Dev) Start(t testing.TB) {
	t.Helper()
	n, err := chain.StartNode(d.Home, chain.NodeOptions{AfterBlock: d.opts.AfterBlock, LogLevel: "error"})
	if err != nil {
		t.Fatal(err)
	}
	d.Node = n
	t.Cleanup(func() { d.Stop(t) })
}

// Stop stops the node if it runs.
func (d *Dev) Stop(t testing.TB) {
	t.Helper()
	if d.Node == nil {
		return
	}
	n := d.Node
	d.Node = nil
	if err := n.Stop(); err != nil {
		t.Errorf("stop node: %v", err)
	}
}

// Key is a dev key's private key from the home's keyring.
func (d *Dev) Key(t testing.TB, name string) ed25519.PrivateKey {
	t.Helper()
	kr, err := keyring.Open(filepath.Join(d.Home, "keyring"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kr.PrivKey(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
