package bridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawResponse is what a raw HTTP request got back.
type rawResponse struct {
	status int
	header http.Header
	body   string
}

// raw sends a SigV4-signed request built by hand (for what the SDKs
// cannot send or hide in the answer). target is the path with its query.
func (f *fixture) raw(t *testing.T, k Key, method, target string, hdr map[string]string, body []byte) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, f.url+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	// Set by hand so that Go's transport does not decompress a gzip
	// Content-Encoding answer and drop the header.
	req.Header.Set("Accept-Encoding", "identity")
	for h, v := range hdr {
		req.Header.Set(h, v)
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payload)
	// S3 signs the path as sent (no second escaping).
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret},
		req, payload, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient(true).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}
