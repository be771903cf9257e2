package types

import (
	"time"

	"github.com/flashback-network/flashback/contract/core"
)

// ErrorBody is every error response: an RFC 9457 problem document
// (application/problem+json) extended with the stable error code. Type and
// title derive from the code; detail says what to fix.
type ErrorBody struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	ABCICode uint32 `json:"abci_code,omitempty"`
}

// Status is GET /v1/status.
type Status struct {
	ChainID         string    `json:"chain_id"`
	NodeID          string    `json:"node_id"`
	Moniker         string    `json:"moniker"`
	Height          int64     `json:"height"`
	AppHash         string    `json:"app_hash"`
	LatestBlockTime time.Time `json:"latest_block_time"`
	CatchingUp      bool      `json:"catching_up"`
}

// Block is GET /v1/blocks/{height}. AppHash is the state hash after the
// previous block, as CometBFT headers carry it.
type Block struct {
	Height  int64     `json:"height"`
	Hash    string    `json:"hash"`
	AppHash string    `json:"app_hash"`
	Time    time.Time `json:"time"`
	NumTxs  int       `json:"num_txs"`
}

// TxRequest is the body of POST /v1/txs.
type TxRequest struct {
	// Tx is the signed tx bytes, base64.
	Tx []byte `json:"tx"`
	// Wait for the tx to be committed (default true).
	Wait *bool `json:"wait,omitempty"`
}

// TxResult is a tx's outcome: Code 0 means every message succeeded.
type TxResult struct {
	Hash     string       `json:"hash"`
	Height   int64        `json:"height"`
	Code     uint32       `json:"code"`
	CodeName string       `json:"code_name"`
	Log      string       `json:"log"`
	Events   []core.Event `json:"events"`
}

// SimulateResult is POST /v1/txs/simulate: what a signed tx would do if it
// were the next tx in a block on the last committed state. Nothing is
// broadcast and no fee is charged. Code 0 means every message would succeed.
type SimulateResult struct {
	Hash     string       `json:"hash"`
	Height   int64        `json:"height"` // the committed height simulated on
	Code     uint32       `json:"code"`
	CodeName string       `json:"code_name"`
	Log      string       `json:"log"`
	Events   []core.Event `json:"events"`
	// Fee is the tx fee the tx would pay (0 when the ante checks fail).
	Fee core.Amount `json:"fee"`
	// Signer and its balance before and after the simulated tx.
	Signer        string      `json:"signer,omitempty"`
	BalanceBefore core.Amount `json:"balance_before"`
	BalanceAfter  core.Amount `json:"balance_after"`
}
