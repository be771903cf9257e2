// Package types holds the JSON shapes of the REST API (api/openapi.json):
// the views the contract's queries return and the node's own responses.
// The server (api) and the SDK (client) share them; the package depends on
// contract/core alone for Amount, Time, Code and Event, so that importing
// the SDK does not compile the node. The contract's state records are
// separate types, converted to these views by each module's View methods.
package types
