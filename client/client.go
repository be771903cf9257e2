// Package client is the Go SDK for the Open API: typed queries, and txs built
// and signed locally then broadcast. The CLI, oracle, bridge and tests use it.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/tx"
)

// Client talks to one node's REST API.
type Client struct {
	base string
	http *http.Client
}

// New returns a client for the API at baseURL (e.g. http://127.0.0.1:1317).
func New(baseURL string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 60 * time.Second}}
}

// Error is an API error: an HTTP status plus the stable code and message.
type Error struct {
	Status   int
	Code     string
	Message  string
	ABCICode core.Code
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// CodeOf returns the stable error code name of err, or "" if err is not an
// API or tx error.
func CodeOf(err error) string {
	if c, ok := simulatedCode(err); ok {
		return c.Name()
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	var te *TxError
	if errors.As(err, &te) {
		return te.Result.CodeName
	}
	return ""
}

// TxError is returned when a tx was committed but its messages failed (the
// fee and sequence were still consumed).
type TxError struct{ Result *types.TxResult }

func (e *TxError) Error() string {
	return fmt.Sprintf("tx %s failed at height %d: %s", e.Result.Hash, e.Result.Height, e.Result.Log)
}

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb types.ErrorBody
		if json.Unmarshal(data, &eb) != nil || eb.Code == "" {
			return &Error{Status: resp.StatusCode, Code: "http_error", Message: strings.TrimSpace(string(data))}
		}
		return &Error{Status: resp.StatusCode, Code: eb.Code, Message: eb.Detail, ABCICode: core.Code(eb.ABCICode)}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*[]byte); ok { // a non-JSON body (statement.go's CSV)
		*raw = data
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// Status returns the node's chain id, height and app hash.
func (c *Client) Status(ctx context.Context) (*types.Status, error) {
	var s types.Status
	return &s, c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
}

// Block returns a block header summary.
func (c *Client) Block(ctx context.Context, height int64) (*types.Block, error) {
	var b types.Block
	return &b, c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/blocks/%d", height), nil, &b)
}

// Account returns an account's balance and sequence.
func (c *Client) Account(ctx context.Context, addr string) (*types.AccountView, error) {
	var a types.AccountView
	return &a, c.do(ctx, http.MethodGet, "/v1/accounts/"+url.PathEscape(addr), nil, &a)
}

// Params returns the chain parameters.
func (c *Client) Params(ctx context.Context) (*types.Params, error) {
	var p types.Params
	return &p, c.do(ctx, http.MethodGet, "/v1/params", nil, &p)
}

// Supply returns the total supply and the pools.
func (c *Client) Supply(ctx context.Context) (*types.SupplyView, error) {
	var s types.SupplyView
	return &s, c.do(ctx, http.MethodGet, "/v1/supply", nil, &s)
}

// Tx returns a committed tx's result.
func (c *Client) Tx(ctx context.Context, hash string) (*types.TxResult, error) {
	var r types.TxResult
	return &r, c.do(ctx, http.MethodGet, "/v1/txs/"+url.PathEscape(hash), nil, &r)
}

// BroadcastTx submits signed tx bytes and, when wait is true, returns once
// the tx is committed. A tx rejected by the mempool returns *Error; one whose
// messages failed in the block returns the result and a *TxError.
func (c *Client) BroadcastTx(ctx context.Context, raw []byte, wait bool) (*types.TxResult, error) {
	var r types.TxResult
	if err := c.do(ctx, http.MethodPost, "/v1/txs", types.TxRequest{Tx: raw, Wait: &wait}, &r); err != nil {
		return nil, err
	}
	if r.Code != 0 {
		return &r, &TxError{Result: &r}
	}
	return &r, nil
}

// Signer signs and submits txs for one key. It tracks the sequence locally
// so that several txs can be sent without waiting, and resyncs from the chain
// after a sequence error.
type Signer struct {
	c    *Client
	priv ed25519.PrivateKey
	addr string

	mu      sync.Mutex
	chainID string
	fee     core.Amount
	seq     uint64
	synced  bool
	mode    SubmitMode // simulate.go
}

// Signer returns a Signer for priv.
func (c *Client) Signer(priv ed25519.PrivateKey) *Signer {
	return &Signer{c: c, priv: priv, addr: address.FromPubKey(priv.Public().(ed25519.PublicKey))}
}

// Address is the signer's account address.
func (s *Signer) Address() string { return s.addr }

func (s *Signer) sync(ctx context.Context) error {
	st, err := s.c.Status(ctx)
	if err != nil {
		return err
	}
	p, err := s.c.Params(ctx)
	if err != nil {
		return err
	}
	a, err := s.c.Account(ctx, s.addr)
	if err != nil {
		return err
	}
	s.chainID, s.fee, s.seq, s.synced = st.ChainID, p.TxFee, a.Sequence, true
	return nil
}

// Sign builds and signs a tx with the next sequence, without sending it.
func (s *Signer) Sign(ctx context.Context, memo string, msgs ...core.Msg) ([]byte, error) {
	return s.sign(ctx, memo, true, msgs...)
}

// sign signs msgs with the next sequence; advance uses it up (a simulation
// does not).
func (s *Signer) sign(ctx context.Context, memo string, advance bool, msgs ...core.Msg) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.synced {
		if err := s.sync(ctx); err != nil {
			return nil, err
		}
	}
	body := tx.Body{ChainID: s.chainID, Sequence: s.seq, Fee: s.fee.String(), Memo: memo}
	for _, m := range msgs {
		w, err := core.Wrap(m)
		if err != nil {
			return nil, err
		}
		body.Msgs = append(body.Msgs, w)
	}
	raw, err := tx.Sign(body, s.priv)
	if err != nil {
		return nil, err
	}
	if advance {
		s.seq++
	}
	return raw, nil
}

// Submit signs msgs into one tx, broadcasts it and waits for commit.
func (s *Signer) Submit(ctx context.Context, msgs ...core.Msg) (*types.TxResult, error) {
	if res, done, err := s.simulateFirst(ctx, msgs); done {
		return res, err
	}
	for attempt := 0; ; attempt++ {
		raw, err := s.Sign(ctx, "", msgs...)
		if err != nil {
			return nil, err
		}
		res, err := s.c.BroadcastTx(ctx, raw, true)
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != core.CodeBadSequence.Name() {
			return res, err
		}
		// The mempool refused the sequence: another process signs with this
		// key (a provider's bridge reporting usage while the provider
		// claims), or an earlier tx was dropped. Nothing reached state, so
		// resync and sign again.
		s.mu.Lock()
		s.synced = false
		s.mu.Unlock()
		if attempt == 4 {
			return res, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(100*(attempt+1)) * time.Millisecond):
		}
	}
}
