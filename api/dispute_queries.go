// The dispute endpoints (contract/dispute).

package api

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
)

var (
	disputeIDPattern = regexp.MustCompile(`^dsp-[1-9][0-9]{0,19}$`)
	disputesParams   = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor,
		"reservation": pPattern(resIDPattern, "res-1"), "consumer": pAddress, "provider": pAddress,
		"status": pEnum(dispute.StatusOpen, dispute.StatusUpheld, dispute.StatusRejected, dispute.StatusUndecided),
	}
	disputePanelParams = map[string]queryParam{"reservation": pPattern(resIDPattern, "res-1")}
)

// disputeRoutes adds GET /v1/disputes and the dispute views. Literal
// segments (stats, panel, accounts, units) take precedence over {id}.
func (s *Server) disputeRoutes() {
	s.handle("GET", "/v1/disputes", s.list("disputes", disputesParams))
	s.handle("GET", "/v1/disputes/{id}", s.byID("disputes", "dispute", "dsp-", disputeIDPattern))
	s.handle("GET", "/v1/disputes/stats", s.query("disputes/stats"))
	s.handle("GET", "/v1/disputes/panel", s.list("disputes/panel", disputePanelParams, "reservation"))
	s.handle("GET", "/v1/disputes/accounts/{address}", func(w http.ResponseWriter, r *http.Request) {
		s.addressed(w, r, "disputes/accounts/", "")
	})
	s.handle("GET", "/v1/disputes/units/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !unitIDPattern.MatchString(id) {
			writeContractError(w, core.CodeNotFound, fmt.Sprintf("unit %q not found (unit ids look like unit-1)", id))
			return
		}
		s.abciQuery(w, r, "disputes/units/"+id)
	})
}
