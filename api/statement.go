// GET /v1/reservations/{id}/statement: a reservation's per-epoch statement
// (contract/market/statement.go), as JSON or, with format=csv, as CSV.

package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

var statementParams = map[string]queryParam{
	"from":   pIntRange(0, 1<<53),
	"limit":  pIntRange(1, market.MaxStatementLines),
	"format": pEnum("json", "csv"),
}

var providerStatementParams = map[string]queryParam{
	"from":  pIntRange(0, 1<<53),
	"limit": pIntRange(1, market.MaxProviderStatementLines),
}

func (s *Server) statementRoutes() {
	s.handle("GET", "/v1/reservations/{id}/statement", s.statement)
	s.handle("GET", "/v1/providers/{address}/statement", func(w http.ResponseWriter, r *http.Request) {
		addr, err := pAddress(r.PathValue("address"))
		if err != nil {
			writeContractError(w, core.CodeInvalidAddress, fmt.Sprintf("%q %v", r.PathValue("address"), err))
			return
		}
		s.list("providers/"+addr+"/statement", providerStatementParams)(w, r)
	})
}

func (s *Server) statement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !resIDPattern.MatchString(id) {
		writeContractError(w, core.CodeNotFound, fmt.Sprintf("reservation %q not found (reservation ids look like res-1)", id))
		return
	}
	qs, code, err := checkQuery(r.URL.RawQuery, statementParams, nil)
	if err != nil {
		writeContractError(w, code, err.Error())
		return
	}
	q, _ := url.ParseQuery(qs)
	csvOut := q.Get("format") == "csv"
	q.Del("format") // the contract query answers JSON; the CSV is rendered here
	qs = q.Encode()
	path := "reservations/" + id + "/statement"
	if qs != "" {
		path += "?" + qs
	}
	if !csvOut {
		s.abciQuery(w, r, path)
		return
	}
	res, err := s.node.ABCIQuery(r.Context(), "/"+path, nil)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	if res.Response.Code != 0 {
		writeContractError(w, core.Code(res.Response.Code), res.Response.Log)
		return
	}
	var st types.Statement
	if err := json.Unmarshal(res.Response.Value, &st); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "statement: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", st.Reservation+"-statement.csv"))
	w.Header().Set("X-Flashback-Height", strconv.FormatInt(res.Response.Height, 10))
	w.WriteHeader(http.StatusOK)
	_ = WriteStatementCSV(w, &st)
}

// StatementCSVHeader is the header line of a statement's CSV.
var StatementCSVHeader = []string{"kind", "epoch", "from", "to", "breached", "storage_paid", "fee", "refund",
	"egress_paid", "egress_fee", "paid", "refunded", "compensation", "escrow_left", "escrowed", "total", "note"}

func csvTime(t core.Time) string {
	if t == 0 {
		return ""
	}
	return time.Unix(t.Unix(), 0).UTC().Format(time.RFC3339)
}

// WriteStatementCSV writes st as CSV: the header, one "epoch" row per line,
// one "total" row (whose storage_paid, fee and refund are the sums of all
// epochs of the reservation's life, not only this page's) and one "note"
// row per note.
func WriteStatementCSV(w interface{ Write([]byte) (int, error) }, st *types.Statement) error {
	cw := csv.NewWriter(w)
	rows := [][]string{StatementCSVHeader}
	for _, l := range st.Lines {
		rows = append(rows, []string{"epoch", strconv.FormatInt(l.Epoch, 10), csvTime(l.From), csvTime(l.To), strconv.FormatBool(l.Breached),
			l.StoragePaid.String(), l.Fee.String(), l.Refund.String(), "", "", "", "", "", "", "", "", ""})
	}
	t := st.Totals
	rows = append(rows, []string{"total", "", csvTime(st.Start), csvTime(st.Through), "", t.StoragePaid.String(), t.Fee.String(), t.Refund.String(),
		t.EgressPaid.String(), t.EgressFee.String(), t.Paid.String(), t.Refunded.String(), t.Compensation.String(),
		t.EscrowLeft.String(), t.Escrowed.String(), t.Total.String(), "total = paid + refunded + compensation + escrow_left; whole life, all pages"})
	notes := st.Notes
	if st.NextFrom != 0 {
		notes = append(notes, fmt.Sprintf("more epochs: ask again with from=%d", st.NextFrom))
	}
	for _, n := range notes {
		row := make([]string, len(StatementCSVHeader))
		row[0], row[len(row)-1] = "note", n
		rows = append(rows, row)
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// ProviderStatementCSVHeader is the header line of a provider statement's CSV.
var ProviderStatementCSVHeader = []string{"kind", "epoch", "storage_paid", "fee", "revenue", "egress_paid", "egress_fee", "claimed", "claimed_fee", "claimable", "note"}

// WriteProviderStatementCSV writes st as CSV: the header, one "epoch" row
// per line, a "total" row (every epoch, whatever the page) and "note" rows.
func WriteProviderStatementCSV(w interface{ Write([]byte) (int, error) }, st *types.ProviderStatement) error {
	rows := [][]string{ProviderStatementCSVHeader}
	for _, l := range st.Lines {
		rows = append(rows, []string{"epoch", strconv.FormatInt(l.Epoch, 10), l.StoragePaid.String(), l.Fee.String(), l.Revenue.String(), "", "", "", "", "", ""})
	}
	t := st.Totals
	rows = append(rows, []string{"total", "", t.StoragePaid.String(), t.Fee.String(), t.Revenue.String(), t.EgressPaid.String(), t.EgressFee.String(),
		t.Claimed.String(), t.ClaimedFee.String(), t.Claimable.String(), "whole history, all pages"})
	notes := st.Notes
	if st.NextFrom != 0 {
		notes = append(notes, fmt.Sprintf("more epochs: ask again with from=%d", st.NextFrom))
	}
	for _, n := range notes {
		row := make([]string, len(ProviderStatementCSVHeader))
		row[0], row[len(row)-1] = "note", n
		rows = append(rows, row)
	}
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}
