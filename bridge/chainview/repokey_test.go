package chainview_test

import (
	"context"
	"testing"

	"github.com/flashback-network/flashback/bridge/chainview"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/repo"
)

// TestViewNeverServesRepoKeys: a repository's keys (S3 keys of the
// consumer's gateway bucket) are not access keys. Even with the repository's
// gateway key set to this bridge's own key, so that the bridge could open
// the sealed secret, the bridge's view of the chain serves the member's
// access key and not the repo key, so a repo key used directly on a bridge
// is refused like an unknown key.
func TestViewNeverServesRepoKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	w := startWorld(t)
	ctx := context.Background()
	res := w.reserve(t, w.auto, 86400)
	ak, err := w.alice.CreateAccessKey(ctx, res, accesskey.PermWrite)
	must(t, "access key", err)
	must(t, "create repo", second(w.alice.CreateRepo(ctx, client.RepoSpec{Name: "bypass", Mode: repo.ModeMirror, GatewayPubKey: w.pub[:],
		Members: []client.RepoMemberInput{{Reservation: res, AccessKeyID: ak.AccessKeyID, Secret: ak.Secret}}})))
	rk, err := w.alice.CreateRepoKey(ctx, "bypass", accesskey.PermAdmin)
	must(t, "repo key", err)

	v := chainview.New(w.viewClient, w.prov.Address(), w.pub, w.priv)
	update(t, w, v)
	wantServed(t, v, "member access key", ak.AccessKeyID, res, true)
	wantServed(t, v, "repo key", rk.ID, "", false)
	// And after a later poll (changes feed), still not.
	_, err = w.alice.CreateRepoKey(ctx, "bypass", accesskey.PermWrite)
	must(t, "second repo key", err)
	update(t, w, v)
	wantServed(t, v, "repo key after a poll", rk.ID, "", false)
}
