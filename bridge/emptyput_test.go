package bridge

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestEmptyPutKeepsConnectionClean: a 0-byte PUT from minio-go (over plain
// HTTP it signs a streaming aws-chunked body, whose only chunk is the final
// empty one) leaves nothing unread on the keep-alive connection, so the
// next request on that same connection gets its own answer, not an error
// written for bytes left of the PUT.
func TestEmptyPutKeepsConnectionClean(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	var dials atomic.Int32
	tr := &http.Transport{
		MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	c, err := minio.New(strings.TrimPrefix(f.url, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(keyW1.AccessKeyID, keyW1.Secret, ""), Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath, Transport: tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, name := range []string{"empty-1", "empty-2", "empty-3"} {
		if _, err := c.PutObject(ctx, "res-1", name, bytes.NewReader(nil), 0, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("0-byte PUT %d: %v", i, err)
		}
		st, err := c.StatObject(ctx, "res-1", name, minio.StatObjectOptions{})
		if err != nil || st.Size != 0 {
			t.Fatalf("HEAD after the 0-byte PUT %d on the same connection: %+v %v", i, st, err)
		}
	}
	obj, err := c.GetObject(ctx, "res-1", "empty-1", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(obj); err != nil || len(b) != 0 {
		t.Fatalf("GET of the empty object: %q %v", b, err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections dialed, want 1: a connection was dropped after an error", n)
	}
}
