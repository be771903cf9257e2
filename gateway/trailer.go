package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// streamResult is what a member answered to a streamed upload.
type streamResult struct {
	member string
	etag   string
	sha256 string // the checksum the member stored (x-amz-checksum-sha256)
	err    error
}

// putStream uploads size bytes from lane l to key on the member (an object,
// or a part when query has partNumber and uploadId) as an aws-chunked body
// with the SHA-256 as trailing checksum: the bridge verifies the bytes it
// received against it before committing, and stores it with the object.
// aws-sdk-go-v2 sends trailing checksums only over TLS, and bridges may be
// plain HTTP, hence this request built by hand.
func (mc *memberClient) putStream(ctx context.Context, key string, query url.Values, hdr http.Header, size int64, l *lane) streamResult {
	res := streamResult{member: mc.m.ID}
	u, err := mc.objectURL(key, query)
	if err != nil {
		res.err = err
		return res
	}
	body := l.body()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), body)
	if err != nil {
		res.err = err
		return res
	}
	req.URL = u
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.ContentLength = encodedLen(size)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(size, 10))
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-sha256")
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	creds := aws.Credentials{AccessKeyID: mc.m.AccessKeyID, SecretAccessKey: mc.m.Secret}
	if err := mc.signer.SignHTTP(ctx, creds, req, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", mc.region, time.Now().UTC()); err != nil {
		res.err = fmt.Errorf("member %s: signing: %w", mc.m.ID, err)
		return res
	}
	resp, err := mc.hc.Do(req)
	body.Close()
	if err != nil {
		res.err = fmt.Errorf("member %s: %w", mc.m.ID, err)
		return res
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		res.err = fmt.Errorf("member %s: %w", mc.m.ID, readError(resp))
		return res
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	res.etag = resp.Header.Get("ETag")
	res.sha256 = resp.Header.Get("X-Amz-Checksum-Sha256")
	return res
}
