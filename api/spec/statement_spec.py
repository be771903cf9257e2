#!/usr/bin/env python3
"""Writes api/spec/statement.json (the reservation statement route) and
then runs gen.py; edit this file, run it, commit the outputs."""
import json, os, subprocess, sys

def ref(name): return {"$ref": f"#/components/schemas/{name}"}
def amount(desc): return {"type": "string", "pattern": "^[0-9]+$", "description": desc + " (decimal string of uflash)"}
def time(desc, nullable=False):
    t = {"type": "string", "format": "date-time", "description": desc + " (RFC 3339 UTC, block time)"}
    if nullable: t["nullable"] = True
    return t
epoch = {"type": "integer", "format": "int64", "minimum": 0}
problem = {"description": "error", "content": {"application/problem+json": {"schema": ref("Problem")}}}

line = {"type": "object", "required": ["epoch", "from", "to", "breached", "storage_paid", "fee", "refund"], "properties": {
    "epoch": epoch, "from": time("start of the billed part of the epoch"), "to": time("end of it (exclusive)"),
    "breached": {"type": "boolean", "description": "QoS marked the unit's SLA breached in this epoch"},
    "storage_paid": amount("storage charged to the consumer for the epoch: provider revenue + fee"),
    "fee": amount("the platform fee part of storage_paid"),
    "refund": amount("storage not charged for breached time in the epoch")}}
totals = {"type": "object", "properties": {
    "storage_paid": amount("sum of the lines' storage_paid; the reservation view's storage charge"),
    "fee": amount("sum of the lines' fee"), "refund": amount("sum of the lines' refund"),
    "egress_paid": amount("egress paid to the provider (running total)"), "egress_fee": amount("fee on egress (running total)"),
    "paid": amount("storage_paid + egress_paid + egress_fee, the reservation's paid"),
    "refunded": amount("returned to the consumer so far"), "compensation": amount("compensation collected (from slashed stake)"),
    "compensation_owed": amount("compensation owed, not yet collected"),
    "escrow_left": amount("the reservation's remaining_escrow"), "escrowed": amount("everything the consumer put in"),
    "total": amount("paid + refunded + compensation + escrow_left")}}
statement = {"type": "object", "required": ["reservation", "status", "lines", "totals", "notes"], "properties": {
    "reservation": {"type": "string"}, "status": {"type": "string"},
    "as_of": time("the block the statement is computed at"), "start": time("term start", True),
    "through": time("end of the statement: min(as_of, end or closed_at)", True),
    "first_epoch": epoch, "last_epoch": epoch, "lines": {"type": "array", "items": ref("StatementLine")},
    "next_from": {**epoch, "description": "from= of the next page (absent at the end)"},
    "totals": ref("StatementTotals"), "notes": {"type": "array", "items": {"type": "string"}}}}

frag = {"paths": {"/v1/reservations/{id}/statement": {"get": {
    "summary": "A reservation's statement: one line per epoch of its life so far and totals that reconcile with its escrow",
    "description": "Per-epoch amounts are differences of rounded cumulative totals, so the lines of the whole life sum exactly to the totals. "
                   "Egress and compensation appear in the totals only. format=csv answers text/csv: a header line, the page's epoch lines, then a totals line.",
    "operationId": "getReservationStatement",
    "parameters": [
        {"name": "id", "in": "path", "required": True, "description": "reservation id",
         "schema": {"type": "string", "pattern": "^res-[1-9][0-9]*$", "example": "res-1"}},
        {"name": "from", "in": "query", "required": False, "description": "first epoch of the page (default: the first of the reservation)", "schema": {"type": "integer", "minimum": 0}},
        {"name": "limit", "in": "query", "required": False, "description": "epochs per page (default 100, at most 1000)", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
        {"name": "format", "in": "query", "required": False, "description": "json (default) or csv", "schema": {"type": "string", "enum": ["json", "csv"]}}],
    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref("Statement")},
                                                          "text/csv": {"schema": {"type": "string"}}}},
                  "400": problem, "404": problem}}}},
    "schemas": {"Statement": statement, "StatementLine": line, "StatementTotals": totals}}

pline = {"type": "object", "required": ["epoch", "storage_paid", "fee", "revenue"], "properties": {
    "epoch": epoch, "storage_paid": amount("charged to consumers for the epoch: revenue + fee"),
    "fee": amount("the platform fee part of storage_paid"), "revenue": amount("storage_paid - fee")}}
ptotals = {"type": "object", "properties": {
    "storage_paid": amount("sum of the lines' storage_paid, the sum of the provider's reservation statements"),
    "fee": amount("sum of the lines' fee"), "revenue": amount("sum of the lines' revenue"),
    "egress_paid": amount("egress revenue (running total)"), "egress_fee": amount("fee on egress (running total)"),
    "claimed": amount("storage revenue the units paid out"), "claimed_fee": amount("fee the units paid to the treasury"),
    "claimable": amount("what the units could pay out now")}}
pstatement = {"type": "object", "required": ["provider", "lines", "totals", "notes"], "properties": {
    "provider": {"type": "string"}, "as_of": time("the block the statement is computed at"),
    "reservations": {"type": "integer", "description": "reservations the provider has had"},
    "first_epoch": epoch, "last_epoch": epoch, "lines": {"type": "array", "items": ref("ProviderStatementLine")},
    "next_from": {**epoch, "description": "from= of the next page (absent at the end)"},
    "totals": ref("ProviderStatementTotals"), "notes": {"type": "array", "items": {"type": "string"}}}}
frag["paths"]["/v1/providers/{address}/statement"] = {"get": {
    "summary": "A provider's storage revenue per epoch: the sums of its reservations' statements, with totals and what its units paid out",
    "description": "Answers for providers with at most 1000 reservations (else 400: ask per reservation).",
    "operationId": "getProviderStatement",
    "parameters": [
        {"name": "address", "in": "path", "required": True, "description": "bech32 fb1… address", "schema": {"type": "string"}},
        {"name": "from", "in": "query", "required": False, "description": "first epoch of the page (default: the first of its reservations)", "schema": {"type": "integer", "minimum": 0}},
        {"name": "limit", "in": "query", "required": False, "description": "epochs per page (default and at most 100)", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
    "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref("ProviderStatement")}}},
                  "400": problem, "404": problem}}}
frag["schemas"].update({"ProviderStatement": pstatement, "ProviderStatementLine": pline, "ProviderStatementTotals": ptotals})

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "statement.json"), "w") as f:
    json.dump(frag, f, indent=1)
    f.write("\n")
subprocess.run([sys.executable, os.path.join(here, "gen.py")], check=True)
