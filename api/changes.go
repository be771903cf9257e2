package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/flashback-network/flashback/contract"
)

// MaxChangesWindow bounds the blocks one GET /v1/providers/{address}/changes
// reads: a caller further behind gets gap=true and does one full sync, so a
// request never costs more than this many block-result reads.
const MaxChangesWindow = 256

// ProviderChanges is GET /v1/providers/{address}/changes: the reservations
// and access keys of a provider that blocks since+1..height touched. Gap
// means the node cannot say (since is 0, too old, or ahead of the node):
// list everything once, then ask again from height.
type ProviderChanges struct {
	Provider     string   `json:"provider"`
	Since        int64    `json:"since"`
	Height       int64    `json:"height"`
	Gap          bool     `json:"gap"`
	Reservations []string `json:"reservations"`
	AccessKeys   []string `json:"access_keys"`
}

// blockResultsNode is the part of the CometBFT RPC client that reads a
// block's FinalizeBlock response (its events) from the node's state store.
// Both the in-process and the HTTP client have it; the Node interface stays
// as it is so other fakes need not grow it.
type blockResultsNode interface {
	BlockResults(ctx context.Context, height *int64) (*ctypes.ResultBlockResults, error)
}

var changesParams = map[string]queryParam{"since": pIntRange(0, 1<<53)}

func (s *Server) providerChanges(w http.ResponseWriter, r *http.Request) {
	addr, err := pAddress(r.PathValue("address"))
	if err != nil {
		writeContractError(w, contract.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	qs, code, err := checkQuery(r.URL.RawQuery, changesParams, []string{"since"})
	if err != nil {
		writeContractError(w, code, err.Error())
		return
	}
	canon, _ := url.ParseQuery(qs) // checkQuery's canonical form parses
	since, _ := strconv.ParseInt(canon.Get("since"), 10, 64)
	br, ok := s.node.(blockResultsNode)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this node does not serve block results")
		return
	}
	// The committed height bounds the answer: the block store may already
	// hold the next block while its state is not committed yet, and a caller
	// that fetched records at that state would miss the block's changes.
	acct, err := s.node.ABCIQuery(r.Context(), "/account/"+addr, nil)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	out := ProviderChanges{Provider: addr, Since: since, Height: acct.Response.Height, Reservations: []string{}, AccessKeys: []string{}}
	if since == 0 || since > out.Height || out.Height-since > MaxChangesWindow {
		out.Gap = true
		writeJSON(w, http.StatusOK, out)
		return
	}
	c := changeCollector{provider: addr, owner: map[string]string{}, res: map[string]bool{}, keys: map[string]bool{}}
	for h := since + 1; h <= out.Height; h++ {
		height := h
		res, err := br.BlockResults(r.Context(), &height)
		if err != nil {
			// Pruned or discarded results: the caller must list instead.
			out.Gap = true
			writeJSON(w, http.StatusOK, out)
			return
		}
		c.block(res)
	}
	if err := c.resolveOwners(r.Context(), s.node); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	out.Reservations, out.AccessKeys = sortedKeys(c.res), sortedKeys(c.keys)
	writeJSON(w, http.StatusOK, out)
}

// changeCollector gathers the reservation and access key ids that a run of
// blocks' events name. It reads attributes, not event types, so an event a
// module adds later is covered as long as it names what it touched:
// "id" (res-…) or "reservation" for reservations, "access_key_id" for keys,
// "provider" for the owner; an event naming a key is about the key only.
// Events of reservations that do not carry the provider are resolved with
// one state read per reservation.
type changeCollector struct {
	provider string
	owner    map[string]string // reservation id -> provider, "" unknown yet
	res      map[string]bool   // reservations of provider touched
	keys     map[string]bool   // access keys of provider touched
	unowned  []string          // reservations touched, provider unknown
}

func (c *changeCollector) block(res *ctypes.ResultBlockResults) {
	for _, tr := range res.TxsResults {
		if tr.Code == 0 {
			c.events(tr.Events)
		}
	}
	c.events(res.FinalizeBlockEvents)
}

func (c *changeCollector) events(evs []abci.Event) {
	for _, e := range evs {
		var resID, keyID, provider string
		for _, a := range e.Attributes {
			switch a.Key {
			case "id":
				if resIDPattern.MatchString(a.Value) {
					resID = a.Value
				}
			case "reservation":
				resID = a.Value
			case "access_key_id":
				keyID = a.Value
			case "provider":
				provider = a.Value
			}
		}
		if resID == "" && keyID == "" {
			continue
		}
		if provider == "" && resID != "" {
			provider = c.owner[resID]
		}
		if resID != "" && provider != "" {
			c.owner[resID] = provider
		}
		switch {
		case provider == c.provider && keyID != "":
			c.keys[keyID] = true // a key event leaves its reservation as it was
		case provider == c.provider:
			c.res[resID] = true
		case provider == "" && resID != "":
			c.owner[resID] = ""
			c.unowned = append(c.unowned, resID)
		}
	}
}

// resolveOwners reads the provider of each reservation whose events did not
// name it (accept, top-up, usage, settlement…).
func (c *changeCollector) resolveOwners(ctx context.Context, node Node) error {
	for _, id := range c.unowned {
		if p, known := c.owner[id]; known && p != "" {
			if p == c.provider {
				c.res[id] = true
			}
			continue
		}
		q, err := node.ABCIQuery(ctx, "/reservations/"+id, nil)
		if err != nil {
			return fmt.Errorf("reservation %s: %w", id, err)
		}
		var r struct {
			Provider string `json:"provider"`
		}
		if q.Response.Code != 0 || json.Unmarshal(q.Response.Value, &r) != nil {
			c.owner[id] = "?" // gone or unreadable: not this provider's to serve
			continue
		}
		c.owner[id] = r.Provider
		if r.Provider == c.provider {
			c.res[id] = true
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
