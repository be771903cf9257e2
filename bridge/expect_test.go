package bridge

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
)

// expectPut sends the headers of a 1 MiB PUT with "Expect: 100-continue",
// signed with secret (or unsigned when secret is ""), and returns the
// connection and the first status line the bridge answers.
func expectPut(t *testing.T, f *fixture, access, secret string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	const size = 1 << 20
	req, _ := http.NewRequest(http.MethodPut, f.url+"/res-1/expect", nil)
	req.ContentLength = size
	req.Header.Set("Content-Length", "1048576")
	req.Header.Set("Expect", "100-continue")
	if secret != "" {
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: access, SecretAccessKey: secret},
			req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	var hdr bytes.Buffer
	hdr.WriteString("PUT /res-1/expect HTTP/1.1\r\nHost: " + f.addr + "\r\n")
	for k, vs := range req.Header {
		for _, v := range vs {
			hdr.WriteString(k + ": " + v + "\r\n")
		}
	}
	hdr.WriteString("\r\n")
	if _, err := conn.Write(hdr.Bytes()); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return conn, br, strings.TrimSpace(line)
}

// TestContinueOnlyWhenAuthenticated: "100 Continue" is sent only to a
// request whose signature is valid; a wrong secret, an unknown key or no
// credentials get their S3 error at once, before sending any body.
func TestContinueOnlyWhenAuthenticated(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for name, c := range map[string]struct {
		access, secret, status, code string
	}{
		"wrong secret":   {keyW1.AccessKeyID, "not-the-secret", "403", "SignatureDoesNotMatch"},
		"unknown key":    {"AKIANOBODY", "whatever", "403", "InvalidAccessKeyId"},
		"no credentials": {"", "", "403", "AccessDenied"},
	} {
		conn, br, line := expectPut(t, f, c.access, c.secret)
		if !strings.HasPrefix(line, "HTTP/1.1 "+c.status) {
			t.Errorf("%s: first answer %q, want %s before any body", name, line, c.status)
		} else if resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(line+"\r\n"), br)), nil); err == nil {
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), "<Code>"+c.code+"</Code>") {
				t.Errorf("%s: body %s, want %s", name, b, c.code)
			}
		}
		conn.Close()
	}
	conn, br, line := expectPut(t, f, keyW1.AccessKeyID, keyW1.Secret)
	defer conn.Close()
	if line != "HTTP/1.1 100 Continue" {
		t.Fatalf("valid request: first answer %q, want 100 Continue", line)
	}
	if _, err := br.ReadString('\n'); err != nil { // blank line after 100
		t.Fatal(err)
	}
	if _, err := conn.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("valid request after 100 Continue: %v %v", err, resp)
	}
	if got := getAll(t, f.sdk(keyW1), "res-1", "expect"); len(got) != 1<<20 {
		t.Fatalf("stored %d bytes", len(got))
	}
}

// TestContinueForRealClients: the SDK (which sends "Expect: 100-continue"
// above 2 MB) and minio-go upload large bodies, to keys that need escaping
// in the signed path, path style and virtual-host style: the early
// signature check agrees with versitygw's.
func TestContinueForRealClients(t *testing.T) {
	f := newFixture(t, fixtureOpts{vhost: "s3.flashback.test"})
	ctx := context.Background()
	_, port, _ := net.SplitHostPort(f.addr)
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, f.addr)
	}}}
	vhost := f.sdk(keyW1, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://s3.flashback.test:" + port)
		o.UsePathStyle = false
		o.HTTPClient = hc
	})
	data := randBytes(3<<20, 7)
	for i, k := range []string{"plain", "with space+plus", "é/ü", "a/../b", "q?x=1&y#z"} {
		c := f.sdk(keyW1)
		if i%2 == 1 {
			c = vhost
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String(k), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("SDK PUT %q (vhost %v): %v", k, i%2 == 1, err)
		}
		if _, err := f.minio(keyW1).PutObject(ctx, "res-1", k+"-m", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("minio-go PUT %q: %v", k, err)
		}
		if got := getAll(t, c, "res-1", k); !bytes.Equal(got, data) {
			t.Fatalf("content of %q", k)
		}
	}
}
