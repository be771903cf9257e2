// The repository endpoints (GET /v1/repos..., /v1/repo-keys...).

package api

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/repo"
)

// pGatewayKey takes a 32-byte X25519 key in hex or standard base64 and
// returns it in hex, the form the contract reads.
func pGatewayKey(v string) (string, error) {
	if b, err := hex.DecodeString(v); err == nil && len(b) == 32 {
		return hex.EncodeToString(b), nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == 32 {
		return hex.EncodeToString(b), nil
	}
	return "", fmt.Errorf("must be a 32-byte X25519 public key in hex (64 characters) or base64")
}

var (
	reposParams = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor, "owner": pAddress, "gateway": pGatewayKey,
		"status": pEnum(types.HealthOK, types.HealthDegraded),
	}
	repoKeysParams = map[string]queryParam{"limit": pLimit, "cursor": pCursor, "owner": pAddress, "repo": pRepoName}
)

func pRepoName(v string) (string, error) {
	if why := repo.ValidName(v); why != "" {
		return "", fmt.Errorf("is not a repository name: it %s", why)
	}
	return v, nil
}

// repoByName serves GET /v1/repos/{owner}/{name}.
func (s *Server) repoByName(w http.ResponseWriter, r *http.Request) {
	owner, err := pAddress(r.PathValue("owner"))
	if err != nil {
		writeContractError(w, core.CodeInvalidAddress, fmt.Sprintf("owner %q %v", r.PathValue("owner"), err))
		return
	}
	name := r.PathValue("name")
	if repo.ValidName(name) != "" {
		writeContractError(w, core.CodeNotFound, fmt.Sprintf("%s has no repository named %q (not a valid bucket name)", owner, name))
		return
	}
	s.abciQuery(w, r, "repos/"+owner+"/"+name)
}

// repoKeys lists an owner's repo keys (of one repository with repo=).
func (s *Server) repoKeys(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("owner") == "" {
		writeContractError(w, core.CodeInvalidQuery, "give owner= (and optionally repo=)")
		return
	}
	s.list("repo-keys", repoKeysParams)(w, r)
}
