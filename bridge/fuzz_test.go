package bridge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// FuzzS3Request throws raw, mostly malformed HTTP requests at a running
// bridge: request lines, SigV4 Authorization headers, presign query
// strings, aws-chunked bodies. Whatever arrives, the bridge must answer
// with a well-formed HTTP response that is not a 500 (a 500 means a panic
// or an unhandled error reached the user), store nothing for an
// unauthenticated request, and keep serving signed requests afterwards.
// Seeds live in testdata/fuzz/FuzzS3Request and replay on plain `go test`.
func FuzzS3Request(f *testing.F) {
	seeds := []string{
		"GET /res-1/a.txt HTTP/1.1\r\nHost: h\r\n\r\n",
		"PUT /res-1/a.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAWRITE1/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nX-Amz-Date: 20260101T000000Z\r\nX-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\n\r\nhello",
		"PUT /res-1/c HTTP/1.1\r\nHost: h\r\nContent-Encoding: aws-chunked\r\nX-Amz-Decoded-Content-Length: 3\r\nX-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nX-Amz-Trailer: x-amz-checksum-crc32\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAWRITE1/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
		"GET /res-1/a?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAREAD1%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=99999999999&X-Amz-SignedHeaders=host&X-Amz-Signature=zz HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /res-1?delete HTTP/1.1\r\nHost: h\r\nContent-Length: 40\r\nContent-MD5: !!!\r\n\r\n<Delete><Object><Key>a</Key></Object>",
		"GET /res-1?list-type=2&max-keys=-1&continuation-token=%ff HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256\r\n\r\n",
		"PUT /res-1/x?partNumber=99999999999&uploadId=../../etc HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		"GET /../../../etc/passwd HTTP/1.1\r\nHost: res-1.s3.local\r\nRange: bytes=9-1\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fx := newFixture(f, fixtureOpts{})
	signed := fx.sdk(keyW1)
	f.Fuzz(func(t *testing.T, raw []byte) {
		before := fx.b.Usage()["res-1"].StoredBytes
		conn, err := net.DialTimeout("tcp", fx.addr, 2*time.Second)
		if err != nil {
			t.Fatalf("bridge not accepting connections: %v", err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = conn.Write(raw)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			// Every 5xx but 501/503 is a bug: garbage is the client's fault.
			if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented && resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("request %q got %d: %s", raw, resp.StatusCode, body)
			}
		}
		// A connection closed without a response is fine for garbage; the
		// bridge itself must still work.
		conn.Close()
		if after := fx.b.Usage()["res-1"].StoredBytes; after > before && !bytes.Contains(raw, []byte("AKIAWRITE1")) {
			t.Fatalf("unauthenticated request stored %d bytes", after-before)
		}
		key := fmt.Sprintf("fuzz-check-%d", len(raw))
		if _, err := signed.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String(key), Body: strings.NewReader("ok")}); err != nil {
			t.Fatalf("bridge broken after %q: %v", raw, err)
		}
		if _, err := signed.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("res-1"), Key: aws.String(key)}); err != nil {
			t.Fatalf("bridge broken after %q: %v", raw, err)
		}
	})
}
