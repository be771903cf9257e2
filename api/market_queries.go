// The market, access-key and QoS endpoints.

package api

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/flashback-network/flashback/contract/core"
)

// list serves a market list endpoint: the query string is validated, then
// forwarded to the contract query path.
func (s *Server) list(path string, params map[string]queryParam, required ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		qs, code, err := checkQuery(r.URL.RawQuery, params, required)
		if err != nil {
			writeContractError(w, code, err.Error())
			return
		}
		full := path
		if qs != "" {
			full += "?" + qs
		}
		s.abciQuery(w, r, full)
	}
}

// accessKeys lists keys of one reservation (its consumer's view) or of one
// provider (its bridges' view); exactly one of the two filters is required.
func (s *Server) accessKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if (q.Get("reservation") == "") == (q.Get("provider") == "") {
		writeContractError(w, core.CodeInvalidQuery, "give exactly one of reservation= or provider=")
		return
	}
	s.list("accesskeys", accessKeysParams)(w, r)
}

func (s *Server) unitQoS(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !unitIDPattern.MatchString(id) {
		writeContractError(w, core.CodeNotFound, fmt.Sprintf("unit %q not found (unit ids look like unit-1)", id))
		return
	}
	s.list("units/"+id+"/qos", epochRangeParams)(w, r)
}

// addressed serves GET paths of the form PREFIX/{address}SUFFIX.
func (s *Server) addressed(w http.ResponseWriter, r *http.Request, prefix, suffix string) {
	addr, err := pAddress(r.PathValue("address"))
	if err != nil {
		writeContractError(w, core.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	s.abciQuery(w, r, prefix+addr+suffix)
}

func (s *Server) providerScore(w http.ResponseWriter, r *http.Request) {
	s.addressed(w, r, "providers/", "/score")
}

func (s *Server) oracle(w http.ResponseWriter, r *http.Request) { s.addressed(w, r, "oracles/", "") }

func (s *Server) provider(w http.ResponseWriter, r *http.Request) {
	addr, err := pAddress(r.PathValue("address"))
	if err != nil {
		writeContractError(w, core.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	s.abciQuery(w, r, "providers/"+addr)
}

// byID serves GET /v1/{collection}/{id}. An id that cannot exist is
// not_found, like an id that does not.
func (s *Server) byID(collection, what, prefix string, re *regexp.Regexp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !re.MatchString(id) {
			writeContractError(w, core.CodeNotFound, fmt.Sprintf("%s %q not found (%s ids look like %s1)", what, id, what, prefix))
			return
		}
		s.abciQuery(w, r, collection+"/"+id)
	}
}

// oracleAssignments serves the units assigned to an oracle in an epoch.
func (s *Server) oracleAssignments(w http.ResponseWriter, r *http.Request) {
	addr, err := pAddress(r.PathValue("address"))
	if err != nil {
		writeContractError(w, core.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
		return
	}
	s.list("oracles/"+addr+"/assignments", assignmentParams)(w, r)
}

// unitOracles serves the oracles assigned to a unit in an epoch.
func (s *Server) unitOracles(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !unitIDPattern.MatchString(id) {
		writeContractError(w, core.CodeNotFound, fmt.Sprintf("unit %q not found (unit ids look like unit-1)", id))
		return
	}
	s.list("units/"+id+"/oracles", unitOraclesParams)(w, r)
}
