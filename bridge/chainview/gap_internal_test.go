package chainview

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/sealed"
)

// TestGapDoesFullSync puts the view ahead of the node (as after the node
// was reset under a running bridge): the node answers gap, and the view
// lists everything once and takes the node's height.
func TestGapDoesFullSync(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	dev := chaintest.StartDev(t, "chainviewgap", chaintest.Options{})
	var lists atomic.Int64
	h := api.New(dev.Node.RPC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/reservations" || r.URL.Path == "/v1/accesskeys" {
			lists.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	pub, priv, err := sealed.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(srv.URL)
	provider := c.Signer(dev.Key(t, "provider")).Address()
	v := New(c, provider, pub, priv)
	ctx := context.Background()
	if err := v.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if lists.Load() != 2 {
		t.Fatalf("first update listed %d times, want 2", lists.Load())
	}
	v.mu.Lock()
	v.height += 10_000
	v.mu.Unlock()
	if err := v.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if lists.Load() != 4 {
		t.Errorf("update from a height the node has not reached listed %d times in all, want 4", lists.Load())
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Height(); got > st.Height || got < st.Height-2 {
		t.Errorf("after the gap sync the view is at %d, node at %d", got, st.Height)
	}
}
