package chainview

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/sealed"
)

// TestGapDoesFullSync puts the view ahead of the node (as after the node
// was reset under a running bridge), then further behind than the node
// answers changes for (a bridge that was down): each time the node answers
// gap, and the view lists everything once and takes the node's height.
func TestGapDoesFullSync(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	dev := chaintest.StartDev(t, "chainviewgap", chaintest.Options{BlockTime: 10 * time.Millisecond})
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

	behind := v.Height()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st, err = c.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if st.Height > behind+api.MaxChangesWindow+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node at %d, not %d blocks past %d within 60 s", st.Height, api.MaxChangesWindow+1, behind)
		}
	}
	if err := v.Update(ctx); err != nil {
		t.Fatal(err)
	}
	if lists.Load() != 6 {
		t.Errorf("update from %d blocks behind listed %d times in all, want 6", st.Height-behind, lists.Load())
	}
	if v.Height() < st.Height {
		t.Errorf("after the gap sync the view is at %d, node was at %d", v.Height(), st.Height)
	}
}
