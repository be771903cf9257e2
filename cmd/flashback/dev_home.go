package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/flashback-network/flashback/chain"
)

// devPorts are the addresses `flashback dev` listens on, each with the
// flag that moves it, so a clash names the flag to change.
type devPorts struct {
	addrs []devPort
}

type devPort struct{ addr, what, flag string }

// devListenPorts lists every address dev will listen on: the node's (from
// the existing home, or what a first start with basePort/apiAddr writes),
// the bridges', the gateway's and its admin status.
func devListenPorts(home string, exists bool, basePort int, apiAddr, s3Addr, metricsAddr, gatewayAddr string) (devPorts, error) {
	var node chain.ListenAddrs
	if exists && basePort == 0 {
		var err error
		if node, err = chain.HomeListenAddrs(home); err != nil {
			return devPorts{}, err
		}
		if apiAddr != "" {
			node.API = apiAddr
		}
	} else {
		node = chain.DefaultListenAddrs(basePort, apiAddr)
	}
	p := devPorts{addrs: []devPort{
		{node.P2P, "CometBFT P2P", "--base-port"},
		{node.RPC, "CometBFT RPC", "--base-port"},
		{node.API, "REST API", "--api-addr or --base-port"},
	}}
	for i := range devProviderNames {
		s3, err := shiftPort(s3Addr, i)
		if err != nil {
			return devPorts{}, fmt.Errorf("--s3-addr: %w", err)
		}
		m, err := shiftPort(metricsAddr, i)
		if err != nil {
			return devPorts{}, fmt.Errorf("--bridge-metrics-addr: %w", err)
		}
		p.addrs = append(p.addrs, devPort{s3, fmt.Sprintf("bridge %d S3", i+1), "--s3-addr"},
			devPort{m, fmt.Sprintf("bridge %d metrics", i+1), "--bridge-metrics-addr"})
	}
	if gatewayAddr == "" {
		var err error
		if gatewayAddr, err = shiftPort(s3Addr, len(devProviderNames)); err != nil {
			return devPorts{}, fmt.Errorf("--s3-addr: %w", err)
		}
	}
	admin, err := shiftPort(gatewayAddr, 1)
	if err != nil {
		return devPorts{}, fmt.Errorf("--gateway-addr: %w", err)
	}
	p.addrs = append(p.addrs, devPort{gatewayAddr, "gateway S3", "--gateway-addr"}, devPort{admin, "gateway admin", "--gateway-addr"})
	return p, nil
}

// check fails, naming the address, what wanted it and the flag that moves
// it, if any two of dev's addresses are the same or one is taken already.
// It runs before a first start writes anything.
func (p devPorts) check() error {
	seen := map[string]devPort{}
	var busy []string
	for _, a := range p.addrs {
		if prev, ok := seen[a.addr]; ok {
			return fmt.Errorf("%s and %s would both listen on %s: change %s", prev.what, a.what, a.addr, a.flag)
		}
		seen[a.addr] = a
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			why := err
			if u := errors.Unwrap(err); u != nil {
				why = u
			}
			busy = append(busy, fmt.Sprintf("  %s (%s): %v; move it with %s", a.addr, a.what, why, a.flag))
			continue
		}
		ln.Close()
	}
	if len(busy) > 0 {
		return fmt.Errorf("ports in use by another program, nothing was started or written:\n%s", strings.Join(busy, "\n"))
	}
	return nil
}

// devHomeExists reports whether home already holds a dev chain.
func devHomeExists(home string) bool {
	_, err := os.Stat(filepath.Join(home, "config", "genesis.json"))
	return err == nil
}

// devStartFailed explains a dev run that stopped before the platform came
// up. A home this run created is removed, so the next run starts clean
// with whatever flags it is given; an older home is kept, with the way out.
func devStartFailed(home string, created bool, err error) error {
	if created {
		if rmErr := os.RemoveAll(home); rmErr != nil {
			return fmt.Errorf("%w\n(the first start failed and the partly made dev home %s could not be removed: %v; remove it by hand or run flashback dev --reset)", err, home, rmErr)
		}
		return fmt.Errorf("%w\n(the first start failed; the partly made dev home %s was removed, so the next run starts clean)", err, home)
	}
	return fmt.Errorf("%w\n(the dev home %s was kept: fix the cause and run flashback dev again, with --base-port/--api-addr/--s3-addr/--bridge-metrics-addr/--gateway-addr to move ports, or start over with flashback dev --reset)", err, home)
}
