package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/dashboard"
)

// maxAPIConns bounds the node API's open connections: beyond it new ones
// wait in the kernel's backlog instead of each holding a goroutine and
// buffers (300 clients trickling bodies once held the API forever).
const maxAPIConns = 512

// nodeHTTPServer is the node's HTTP server on its API address: the REST API,
// the web dashboard at /ui (GET / redirects there), GET /metrics
// (Prometheus: the app's series and CometBFT's) and the health endpoints,
// with read, write and idle timeouts.
func nodeHTTPServer(home string, n *chain.Node, blockTime time.Duration, apiURL string) (*http.Server, error) {
	a := api.New(n.RPC)
	a.Failure = n.Failure
	a.MaxBlockAge = maxBlockAge(home, blockTime)
	dash, err := dashboard.New(apiURL)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	if n.Metrics != nil {
		mux.Handle("GET /metrics", n.Metrics.Handler())
	}
	mux.Handle(dashboard.Prefix, dash)
	mux.Handle(dashboard.Prefix+"/", dash)
	mux.Handle("GET /{$}", http.RedirectHandler(dashboard.Prefix, http.StatusFound))
	mux.Handle("/", a)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// POST /v1/txs waits up to the API's CommitTimeout (30 s) for the
		// block; the write deadline leaves room for it.
		WriteTimeout:   a.CommitTimeout + 30*time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}, nil
}

// maxBlockAge is how stale the latest block may be before /readyz says the
// node stalled: 20 block intervals, at least 10 s.
func maxBlockAge(home string, blockTime time.Duration) time.Duration {
	if blockTime == 0 {
		if c, err := chain.LoadCometConfig(home); err == nil {
			blockTime = c.Consensus.TimeoutCommit
		}
	}
	return max(20*blockTime, 10*time.Second)
}

// watchNodeFailure reports, once, the error that stopped the node's block
// execution: CometBFT halts consensus on it and would otherwise leave a
// process that answers but never commits.
func watchNodeFailure(n *chain.Node) <-chan error {
	out := make(chan error, 1)
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			if err := n.Failure(); err != nil {
				out <- fmt.Errorf("the node stopped committing blocks: %w", err)
				return
			}
		}
	}()
	return out
}
