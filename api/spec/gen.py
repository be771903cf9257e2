#!/usr/bin/env python3
"""Writes api/openapi.json. Edit this file, run it, commit both; api tests
check that the server and the spec list the same routes."""
import json, os

def ref(name): return {"$ref": f"#/components/schemas/{name}"}
amount = {"type": "string", "pattern": "^[0-9]+$", "description": "decimal string of uflash (1 FLASH = 10^6 uflash)"}
def ok(schema, desc="OK"): return {"description": desc, "content": {"application/json": {"schema": schema}}}
problem = {"description": "error", "content": {"application/problem+json": {"schema": ref("Problem")}}}
def param(name, where="path", schema=None, desc="", required=None):
    return {"name": name, "in": where, "required": (where == "path") if required is None else required,
            "description": desc, "schema": schema or {"type": "string"}}

schemas = {
    "Problem": {"type": "object", "required": ["type", "title", "status", "detail", "code"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what went wrong and how to fix it"},
        "code": {"type": "string", "description": "stable error code, e.g. bad_sequence"},
        "abci_code": {"type": "integer"}}},
    "Status": {"type": "object", "properties": {
        "chain_id": {"type": "string"}, "node_id": {"type": "string"}, "moniker": {"type": "string"},
        "height": {"type": "integer", "format": "int64"}, "app_hash": {"type": "string"},
        "latest_block_time": {"type": "string", "format": "date-time"}, "catching_up": {"type": "boolean"}}},
    "Health": {"type": "object", "properties": {"status": {"type": "string"}, "height": {"type": "integer"}, "catching_up": {"type": "boolean"}}},
    "Block": {"type": "object", "properties": {
        "height": {"type": "integer", "format": "int64"}, "hash": {"type": "string"}, "app_hash": {"type": "string"},
        "time": {"type": "string", "format": "date-time"}, "num_txs": {"type": "integer"}}},
    "Account": {"type": "object", "properties": {"address": {"type": "string"}, "balance": amount, "sequence": {"type": "integer", "format": "uint64"}}},
    "Params": {"type": "object", "additionalProperties": True, "properties": {"tx_fee": amount}},
    "Supply": {"type": "object", "properties": {"supply": amount, "pools": {"type": "object", "additionalProperties": amount}}},
    "TxRequest": {"type": "object", "required": ["tx"], "properties": {
        "tx": {"type": "string", "format": "byte", "description": "signed tx bytes, base64"},
        "wait": {"type": "boolean", "default": True, "description": "wait for the tx to be committed"}}},
    "Event": {"type": "object", "properties": {"type": {"type": "string"}, "attributes": {"type": "array", "items": {
        "type": "object", "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}}}},
    "SimulateRequest": {"type": "object", "required": ["tx"], "properties": {
        "tx": {"type": "string", "format": "byte", "description": "signed tx bytes, base64"}}},
    "SimulateResult": {"type": "object", "required": ["hash", "height", "code", "code_name", "log", "events", "fee", "balance_before", "balance_after"], "properties": {
        "hash": {"type": "string"}, "height": {"type": "integer", "format": "int64", "description": "the committed height simulated on"},
        "code": {"type": "integer", "description": "0 when every message would succeed"}, "code_name": {"type": "string"},
        "log": {"type": "string"}, "events": {"type": "array", "items": ref("Event")},
        "fee": {**amount, "description": "the tx fee the tx would pay (0 when its ante checks fail)"},
        "signer": {"type": "string"}, "balance_before": amount, "balance_after": amount}},
    "TxResult": {"type": "object", "properties": {
        "hash": {"type": "string"}, "height": {"type": "integer", "format": "int64"},
        "code": {"type": "integer", "description": "0 when every message succeeded"}, "code_name": {"type": "string"},
        "log": {"type": "string"}, "events": {"type": "array", "items": ref("Event")}}},
}

paths = {
    "/healthz": {"get": {"summary": "Liveness", "operationId": "healthz", "responses": {"200": ok(ref("Health")), "503": problem}}},
    "/readyz": {"get": {"summary": "Readiness: the node is not catching up, commits blocks (the last one is recent) and its block execution has not failed", "operationId": "readyz", "responses": {"200": ok(ref("Health")), "503": problem}}},
    "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "responses": {"200": ok({"type": "object"})}}},
    "/v1/status": {"get": {"summary": "Chain id, height and app hash", "operationId": "getStatus", "responses": {"200": ok(ref("Status")), "503": problem}}},
    "/v1/blocks/{height}": {"get": {"summary": "A block header summary", "operationId": "getBlock",
        "parameters": [param("height", schema={"type": "integer", "minimum": 1})],
        "responses": {"200": ok(ref("Block")), "400": problem, "404": problem}}},
    "/v1/accounts/{address}": {"get": {"summary": "Balance and sequence of an account", "operationId": "getAccount",
        "parameters": [param("address", desc="bech32 fb1… address")],
        "responses": {"200": ok(ref("Account")), "400": problem}}},
    "/v1/params": {"get": {"summary": "Chain parameters", "operationId": "getParams", "responses": {"200": ok(ref("Params"))}}},
    "/v1/supply": {"get": {"summary": "Total supply and pool balances", "operationId": "getSupply", "responses": {"200": ok(ref("Supply"))}}},
    "/v1/txs": {"post": {"summary": "Broadcast a signed tx", "operationId": "postTx",
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("TxRequest")}}},
        "responses": {"200": ok(ref("TxResult"), "committed (code 0 = success)"), "202": ok(ref("TxResult"), "accepted, not waited for"),
                      "400": problem, "403": problem, "409": problem, "413": problem, "503": problem, "504": problem}}},
    "/v1/txs/simulate": {"post": {"summary": "Simulate a signed tx on the committed state: nothing is broadcast, no fee is charged", "operationId": "simulateTx",
        "description": "Runs the tx as the next tx of a block on a throwaway copy of the last committed state. A tx that would fail is answered 200 with its code and log; the signer's sequence is not used up.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("SimulateRequest")}}},
        "responses": {"200": ok(ref("SimulateResult"), "what the tx would do (code 0 = every message would succeed)"),
                      "400": problem, "409": problem, "413": problem, "503": problem}}},
    "/v1/txs/{hash}": {"get": {"summary": "A committed tx's result", "operationId": "getTx",
        "parameters": [param("hash", desc="64 hex characters")],
        "responses": {"200": ok(ref("TxResult")), "400": problem, "404": problem}}},
}

# Extra path fragments are merged in from spec/*.json (one per area).
here = os.path.dirname(os.path.abspath(__file__))
for name in sorted(os.listdir(here)):
    if name.endswith(".json"):
        frag = json.load(open(os.path.join(here, name)))
        paths.update(frag.get("paths", {}))
        schemas.update(frag.get("schemas", {}))

doc = {"openapi": "3.0.3",
       "info": {"title": "Flashback Open API", "version": "1.0.0",
                "description": "REST API of a Flashback node. JSON fields are snake_case, amounts are decimal strings of uflash, times are RFC 3339 UTC date-time strings (null while not yet set, e.g. a pending reservation's start), errors are application/problem+json with a stable code."},
       "paths": dict(sorted(paths.items())), "components": {"schemas": dict(sorted(schemas.items()))}}
with open(os.path.join(here, "..", "openapi.json"), "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
