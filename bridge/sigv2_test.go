package bridge

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// awsCLIv1 runs the aws CLI v1 against f with key k and the given config
// file contents (empty: none).
func awsCLIv1(t *testing.T, f *fixture, k Key, config string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	cfg := "/dev/null"
	if config != "" {
		cfg = filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("aws", append([]string{"--endpoint-url", f.url}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+k.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+k.Secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// presignV2 signs a GET of path with SigV2 query authentication.
func presignV2(k Key, path string, expires time.Time) string {
	exp := fmt.Sprint(expires.Unix())
	mac := hmac.New(sha1.New, []byte(k.Secret))
	mac.Write([]byte("GET\n\n\n" + exp + "\n" + path))
	return path + "?" + url.Values{"AWSAccessKeyId": {k.AccessKeyID}, "Expires": {exp},
		"Signature": {base64.StdEncoding.EncodeToString(mac.Sum(nil))}}.Encode()
}

// TestSigV2Presigned: `aws s3 presign` (aws CLI v1, SigV2 query
// authentication, no extra config) gives a working URL; tampered, expired,
// over-long, unknown-key and other-reservation URLs are refused.
func TestSigV2Presigned(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := f.sdk(keyW1)
	key := "dir/a b+c~!.txt"
	putBytes(t, c, "res-1", key, []byte("signed with v2"))

	out, err := awsCLIv1(t, f, keyR1, "", "s3", "presign", "s3://res-1/"+key)
	if err != nil {
		t.Fatalf("aws s3 presign: %v\n%s", err, out)
	}
	u := strings.TrimSpace(out)
	if !strings.Contains(u, "AWSAccessKeyId=") || !strings.Contains(u, "Signature=") {
		t.Fatalf("not a SigV2 URL: %s", u)
	}
	if code, body := httpGet(t, u); code != 200 || body != "signed with v2" {
		t.Fatalf("GET presigned v2: %d %s", code, body)
	}
	if code, body := httpGet(t, strings.Replace(u, "Signature=", "Signature=A", 1)); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("tampered signature: %d %s", code, body)
	}
	if code, body := httpGet(t, strings.Replace(u, "/res-1/dir/", "/res-1/dir2/", 1)); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("URL for another key: %d %s", code, body)
	}
	path := "/res-1/" + (&url.URL{Path: key}).EscapedPath()
	if code, body := httpGet(t, f.url+presignV2(keyR1, path, time.Now().Add(time.Hour))); code != 200 || body != "signed with v2" {
		t.Fatalf("GET presigned v2 (test signer): %d %s", code, body)
	}
	if code, body := httpGet(t, f.url+presignV2(keyR1, path, time.Now().Add(-time.Second))); code != 403 || !strings.Contains(body, "expired") {
		t.Fatalf("expired: %d %s", code, body)
	}
	if code, _ := httpGet(t, f.url+presignV2(keyR1, path, time.Now().Add(8*24*time.Hour))); code != 403 {
		t.Fatalf("expiry beyond 7 days: %d", code)
	}
	if code, body := httpGet(t, f.url+presignV2(Key{AccessKeyID: "AKIANOBODY", Secret: "x"}, path, time.Now().Add(time.Hour))); code != 403 || !strings.Contains(body, "InvalidAccessKeyId") {
		t.Fatalf("unknown key: %d %s", code, body)
	}
	// Another reservation's object: authenticated, not authorized.
	putBytes(t, f.sdk(keyW2), "res-2", "x", []byte("x"))
	if code, body := httpGet(t, f.url+presignV2(keyR1, "/res-2/x", time.Now().Add(time.Hour))); code != 403 || !strings.Contains(body, "AccessDenied") {
		t.Fatalf("other reservation: %d %s", code, body)
	}

}

// TestSigV2Header: SigV2 header authentication (minio-go with V2
// credentials; botocore signs SigV4 headers whatever its configuration)
// uploads, lists, stats and downloads with the key's permissions, a wrong
// secret is refused, and minio-go's SigV2 presigned URL works.
func TestSigV2Header(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := f.sdk(keyW1)
	key := "dir/a b+c~!.txt"
	putBytes(t, c, "res-1", key, []byte("signed with v2"))
	ctx := context.Background()
	data := randBytes(300_000, 41)
	mw, mr := f.minioV2(keyW1), f.minioV2(keyR1)
	if _, err := mw.PutObject(ctx, "res-1", "v2/up bin+", bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/x-v2", UserMetadata: map[string]string{"via": "sigv2"}}); err != nil {
		t.Fatalf("minio-go SigV2 put: %v", err)
	}
	if got := getAll(t, c, "res-1", "v2/up bin+"); !bytes.Equal(got, data) {
		t.Fatalf("SigV2 upload differs (%d bytes)", len(got))
	}
	var names []string
	for o := range mr.ListObjects(ctx, "res-1", minio.ListObjectsOptions{Prefix: "v2/"}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		names = append(names, o.Key)
	}
	if strings.Join(names, ",") != "v2/up bin+" {
		t.Fatalf("SigV2 list: %v", names)
	}
	obj, err := mr.GetObject(ctx, "res-1", "v2/up bin+", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("SigV2 get: %v (%d bytes)", err, len(got))
	}
	st, err := mr.StatObject(ctx, "res-1", "v2/up bin+", minio.StatObjectOptions{})
	if err != nil || st.ContentType != "application/x-v2" || st.UserMetadata["Via"] != "sigv2" {
		t.Fatalf("SigV2 stat: %v %+v", err, st)
	}
	_, err = mr.PutObject(ctx, "res-1", "v2/denied", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("read key upload with SigV2: %v", err)
	}
	_, err = f.minioV2(Key{AccessKeyID: keyW1.AccessKeyID, Secret: "wrong"}).StatObject(ctx, "res-1", "v2/up bin+", minio.StatObjectOptions{})
	if r := minio.ToErrorResponse(err); r.StatusCode != 403 {
		t.Fatalf("wrong secret with SigV2: %v", err)
	}
	if err := mw.RemoveObject(ctx, "res-1", "v2/up bin+", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	// minio-go's SigV2 presigned URL too.
	pu, err := mr.PresignedGetObject(ctx, "res-1", key, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := httpGet(t, pu.String()); code != 200 || body != "signed with v2" {
		t.Fatalf("minio-go presigned v2: %d %s", code, body)
	}
}

// minioV2 is a minio-go client signing with SigV2.
func (f *fixture) minioV2(k Key) *minio.Client {
	c, err := minio.New(strings.TrimPrefix(f.url, "http://"), &minio.Options{
		Creds: credentials.NewStaticV2(k.AccessKeyID, k.Secret, ""), Secure: false, Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}
