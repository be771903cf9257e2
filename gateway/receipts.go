package gateway

import (
	"net/http"
	"strings"

	"github.com/flashback-network/flashback/receipt"
)

// receiptTap keeps the receipts that member bridges sign for writes and
// deletes (the X-Flashback-Receipt response header) in the gateway's
// receipt journal, STATE_DIR/receipts/<reservation>.jsonl: the consumer's
// evidence for a data-loss dispute (`flashback dispute open RES --key K
// --journal STATE_DIR/receipts`). It sits under every member client, so
// single PUTs, completed multipart uploads, copies, deletes and repair
// writes are all kept without each path knowing about receipts.
//
// A receipt is kept only if it verifies and names the reservation the
// request went to (the first path segment: member clients use path-style
// addressing with the reservation as bucket); anything else is logged and
// dropped, so a bridge cannot fill the journal with another reservation's
// lines. A journal that cannot be written is logged, not failed: the
// member has already done the write, and failing it would make the
// gateway retry a write that succeeded.
type receiptTap struct {
	next    http.RoundTripper
	journal *receipt.Journal
	logf    func(format string, args ...any)
}

func (t *receiptTap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || t.journal == nil {
		return resp, err
	}
	if v := resp.Header.Get(receipt.Header); v != "" && resp.StatusCode/100 == 2 {
		t.keep(req, v)
	}
	return resp, nil
}

func (t *receiptTap) keep(req *http.Request, v string) {
	r, err := receipt.Decode(v)
	if err == nil {
		err = r.Verify()
	}
	if err != nil {
		t.logf("gateway: receipt from %s refused: %v", req.URL.Host, err)
		return
	}
	bucket, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	if r.Reservation != bucket {
		t.logf("gateway: receipt from %s names reservation %s, the request was for %s; not kept", req.URL.Host, r.Reservation, bucket)
		return
	}
	if err := t.journal.Append(r); err != nil {
		t.logf("gateway: keeping the receipt of %s/%s: %v", bucket, r.Key, err)
	}
}
