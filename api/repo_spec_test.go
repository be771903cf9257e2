package api_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/sealed"
)

// TestRepoRoutesMatchSpec runs a real node with a mirror repository of two
// members on two providers and a repo key, calls every repository route
// (successes and errors) and validates each response against openapi.json.
// A repo key is not an access key: GET /v1/accesskeys/{id}, which bridges
// read, does not know it.
func TestRepoRoutesMatchSpec(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	sn := startSpecNode(t)
	ctx := context.Background()
	alice := sn.signers["alice"]
	var members []client.RepoMemberInput
	for _, name := range []string{"provider", "oracle"} {
		s := sn.signers[name]
		bridgePub, _, err := sealed.GenerateKey()
		mustSpec(t, "bridge key", err)
		_, err = s.RegisterProvider(ctx, market.MsgRegisterProvider{Name: name, Endpoint: "http://127.0.0.1:1", BridgePubKey: bridgePub[:]})
		mustSpec(t, "register provider", err)
		_, err = s.Stake(ctx, sn.params.MinUnitStake)
		mustSpec(t, "stake", err)
		unit, _, err := s.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE", Capacity: 10 << 30, StoragePrice: 1_000_000, EgressPrice: 1, AutoAccept: true})
		mustSpec(t, "add unit", err)
		res, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: unit, Bytes: 1 << 30, Term: 86400, MaxPrice: 1_000_000})
		mustSpec(t, "reserve", err)
		k, err := alice.CreateAccessKey(ctx, res, accesskey.PermWrite)
		mustSpec(t, "access key", err)
		members = append(members, client.RepoMemberInput{Reservation: res, AccessKeyID: k.AccessKeyID, Secret: k.Secret})
	}
	gwPub, _, err := sealed.GenerateKey()
	mustSpec(t, "gateway key", err)
	_, err = alice.CreateRepo(ctx, client.RepoSpec{Name: "spec-repo", Mode: repo.ModeMirror, GatewayPubKey: gwPub[:], Members: members})
	mustSpec(t, "create repo", err)
	key, err := alice.CreateRepoKey(ctx, "spec-repo", accesskey.PermRead)
	mustSpec(t, "repo key", err)

	owner := map[string]string{"owner": alice.Address(), "name": "spec-repo"}
	body := sn.get(t, "/v1/repos/{owner}/{name}", owner, "", 200)
	checkTimes(t, "repo", body, "created_at", "updated_at", "joined_at")
	var r types.Repo
	mustSpec(t, "decode repo", json.Unmarshal(body, &r))
	if r.Status != types.HealthOK || len(r.Members) != 2 || r.WriteQuorum != 2 || r.Members[0].BridgeEndpoint != "http://127.0.0.1:1" {
		t.Fatalf("repo %s", body)
	}
	for _, q := range []string{
		"owner=" + alice.Address(),
		"gateway=" + hex.EncodeToString(gwPub[:]),
		"gateway=" + url.QueryEscape(base64.StdEncoding.EncodeToString(gwPub[:])),
		"status=ok&limit=1",
	} {
		if body := sn.get(t, "/v1/repos", nil, q, 200); !strings.Contains(string(body), `"name":"spec-repo"`) {
			t.Errorf("repos?%s: %s", q, body)
		}
	}
	if body := sn.get(t, "/v1/repos", nil, "status=degraded", 200); strings.Contains(string(body), "spec-repo") {
		t.Errorf("healthy repo listed as degraded: %s", body)
	}
	body = sn.get(t, "/v1/repo-keys/{id}", map[string]string{"id": key.ID}, "", 200)
	checkTimes(t, "repo key", body, "created_at")
	for _, q := range []string{"owner=" + alice.Address(), "owner=" + alice.Address() + "&repo=spec-repo"} {
		if body := sn.get(t, "/v1/repo-keys", nil, q, 200); !strings.Contains(string(body), key.ID) {
			t.Errorf("repo-keys?%s: %s", q, body)
		}
	}

	// Errors, with their stable codes.
	for _, c := range []struct {
		template, query string
		pp              map[string]string
		status          int
		code            string
	}{
		{"/v1/repos/{owner}/{name}", "", map[string]string{"owner": alice.Address(), "name": "no-such-repo"}, 404, "not_found"},
		{"/v1/repos/{owner}/{name}", "", map[string]string{"owner": "fb1nope", "name": "spec-repo"}, 400, "invalid_address"},
		{"/v1/repos", "gateway=abcd", nil, 400, "invalid_query"},
		{"/v1/repos", "status=broken", nil, 400, "invalid_query"},
		{"/v1/repos", "owner=fb1nope", nil, 400, "invalid_address"},
		{"/v1/repos", "color=red", nil, 400, "invalid_query"},
		{"/v1/repo-keys", "", nil, 400, "invalid_query"},
		{"/v1/repo-keys", "owner=" + alice.Address() + "&repo=Bad_Name", nil, 400, "invalid_query"},
		{"/v1/repo-keys/{id}", "", map[string]string{"id": "FBNOSUCHKEY000000000"}, 404, "not_found"},
		{"/v1/accesskeys/{id}", "", map[string]string{"id": key.ID}, 404, "not_found"},
	} {
		body := sn.get(t, c.template, c.pp, c.query, c.status)
		if !strings.Contains(string(body), `"code":"`+c.code+`"`) {
			t.Errorf("GET %s %v ?%s: want code %s: %s", c.template, c.pp, c.query, c.code, body)
		}
	}
}
