package client

// Simulation: a tx signed like any other but run by the node on its
// committed state instead of being broadcast (POST /v1/txs/simulate). A
// Signer can simulate every tx first (Precheck), refusing locally one that
// would fail so that no fee is charged, or only simulate (DryRun).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// SubmitMode says what Signer.Submit does with a signed tx.
type SubmitMode int

const (
	// Broadcast sends the tx at once (the default).
	Broadcast SubmitMode = iota
	// Precheck simulates the tx first and broadcasts it only if it would
	// succeed; otherwise Submit returns *SimulatedError and nothing is sent.
	Precheck
	// DryRun only simulates: Submit returns the simulated result (Height 0)
	// or *SimulatedError, and never broadcasts.
	DryRun
)

// SimulatedError is a tx the node's simulation says would fail. It was not
// broadcast: no fee was charged and the sequence was not used.
type SimulatedError struct {
	Result *types.SimulateResult
	DryRun bool
}

func (e *SimulatedError) Error() string {
	what := "refused before broadcast (nothing sent, no fee charged)"
	if e.DryRun {
		what = "dry run: the tx would fail (nothing sent)"
	}
	return fmt.Sprintf("%s: %s", what, e.Result.Log)
}

// Code is the chain's error code the tx would fail with.
func (e *SimulatedError) Code() core.Code { return core.Code(e.Result.Code) }

// SimulateTx asks the node what the signed tx raw would do on its committed
// state. A tx that would fail is a result with a non-zero Code, not an
// error; errors are about asking (network, malformed request).
func (c *Client) SimulateTx(ctx context.Context, raw []byte) (*types.SimulateResult, error) {
	var r types.SimulateResult
	if err := c.do(ctx, http.MethodPost, "/v1/txs/simulate", types.TxRequest{Tx: raw}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// SetMode makes Submit (and every typed tx method) broadcast, precheck or
// only simulate.
func (s *Signer) SetMode(m SubmitMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// Simulate signs msgs with the next sequence, without using it up, and asks
// the node what the tx would do.
func (s *Signer) Simulate(ctx context.Context, msgs ...core.Msg) (*types.SimulateResult, error) {
	raw, err := s.sign(ctx, "", false, msgs...)
	if err != nil {
		return nil, err
	}
	return s.c.SimulateTx(ctx, raw)
}

// simulateFirst runs the mode's simulation. done says Submit must return
// (res, err) without broadcasting.
func (s *Signer) simulateFirst(ctx context.Context, msgs []core.Msg) (res *types.TxResult, done bool, err error) {
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	if mode == Broadcast {
		return nil, false, nil
	}
	sim, err := s.Simulate(ctx, msgs...)
	if err == nil && core.Code(sim.Code) == core.CodeBadSequence {
		// The local sequence is stale (a tx signed but never sent, or
		// another process signing with this key): resync once.
		s.mu.Lock()
		s.synced = false
		s.mu.Unlock()
		sim, err = s.Simulate(ctx, msgs...)
	}
	if err != nil {
		return nil, true, err
	}
	if sim.Code != 0 {
		return nil, true, &SimulatedError{Result: sim, DryRun: mode == DryRun}
	}
	if mode == Precheck {
		return nil, false, nil
	}
	return &types.TxResult{Hash: sim.Hash, Height: 0, Code: 0, CodeName: sim.CodeName, Log: sim.Log, Events: sim.Events}, true, nil
}

// simulatedCode is the code of a SimulatedError in err's chain.
func simulatedCode(err error) (core.Code, bool) {
	var se *SimulatedError
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

// RawParams returns GET /v1/params as the node sends it, every parameter
// included (Params keeps only the ones the SDK uses).
func (c *Client) RawParams(ctx context.Context) (map[string]json.RawMessage, error) {
	var p map[string]json.RawMessage
	return p, c.do(ctx, http.MethodGet, "/v1/params", nil, &p)
}
