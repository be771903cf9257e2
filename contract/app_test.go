package contract

import (
	"github.com/flashback-network/flashback/contract/core"
)

// testApp is the app the white-box tests drive directly.
var testApp = New()

// handle runs one message through its route, as ExecTx does after the ante
// checks (benchmarks set up state this way without signing).
func handle(ctx *core.Context, signer []byte, m core.Msg) error {
	return testApp.routes[m.Type()].Handle(ctx, signer, m)
}
