package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ChainIsOracle asks a node's REST API (GET /v1/oracles/{address}) whether
// addr is an active oracle. A 404 means it is not one. Wrap it with
// CachedIsOracle.
func ChainIsOracle(nodeURL string) func(ctx context.Context, addr string) (bool, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	base := strings.TrimRight(nodeURL, "/")
	return func(ctx context.Context, addr string) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/oracles/"+url.PathEscape(addr), nil)
		if err != nil {
			return false, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return false, err
		}
		switch {
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest:
			// Unknown oracle, or not even an address.
			return false, nil
		case resp.StatusCode != http.StatusOK:
			return false, fmt.Errorf("GET /v1/oracles/%s: HTTP %d: %s", addr, resp.StatusCode, strings.TrimSpace(string(b)))
		}
		var o struct {
			Address string `json:"address"`
			Active  bool   `json:"active"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return false, fmt.Errorf("GET /v1/oracles/%s: %w", addr, err)
		}
		return o.Active && o.Address == addr, nil
	}
}
