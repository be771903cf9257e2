package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func sum64(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// listAll lists the whole bucket through ListObjectsV2 pages of pageSize.
func listAll(t *testing.T, c *s3.Client, bucket, prefix, delim string, pageSize int32) (keys, prefixes []string) {
	t.Helper()
	var tok *string
	for {
		out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix),
			Delimiter: nonEmpty(delim), MaxKeys: aws.Int32(pageSize), ContinuationToken: tok})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, *p.Prefix)
		}
		if !deref(out.IsTruncated) {
			return
		}
		tok = out.NextContinuationToken
	}
}

func TestMirrorPutGetListDelete(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 0)
	c := f.client(PermWrite)
	small := randBytes(100 << 10)
	large := randBytes(20 << 20) // above VerifyBelow: streamed, checked at the end
	big := randBytes(40 << 20)   // multipart, 5 parts
	mustPut(t, c, "photos", "small.bin", small)
	mustPut(t, c, "photos", "dir/large.bin", large)
	mustPut(t, c, "photos", "empty", nil)
	multipartPut(t, c, "photos", "dir/big.bin", big, 8<<20)

	mustGetExact(t, c, "photos", "small.bin", small)
	mustGetExact(t, c, "photos", "dir/large.bin", large)
	mustGetExact(t, c, "photos", "dir/big.bin", big)
	mustGetExact(t, c, "photos", "empty", nil)
	got, err := get(c, "photos", "dir/big.bin", "bytes=10000000-10999999")
	if err != nil || !bytes.Equal(got, big[10000000:11000000]) {
		t.Fatalf("range get: %d bytes, %v", len(got), err)
	}
	head, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("dir/large.bin")})
	if err != nil || deref(head.ContentLength) != int64(len(large)) {
		t.Fatalf("head: %v %v", head, err)
	}
	if _, ok := head.Metadata[writeIDMeta]; ok {
		t.Fatal("HEAD shows the gateway's write id")
	}
	// Every member holds every object with its sha256 stored.
	for _, m := range f.members {
		for key, data := range map[string][]byte{"small.bin": small, "dir/large.bin": large} {
			has, sum := memberHas(t, m, key)
			if !has || sum != sum64(data) {
				t.Fatalf("%s on %s: has %v, sha256 %q, want %q", key, m.id, has, sum, sum64(data))
			}
		}
		if has, sum := memberHas(t, m, "dir/big.bin"); !has || sum == "" {
			t.Fatalf("multipart object on %s: has %v, checksum %q", m.id, has, sum)
		}
	}
	if recs, _ := ReadRepairQueue(f.state); len(recs) != 0 {
		t.Fatalf("repair queue after clean writes: %+v", recs)
	}

	for i := 0; i < 7; i++ {
		mustPut(t, c, "photos", fmt.Sprintf("many/%02d", i), []byte{byte(i)})
	}
	keys, _ := listAll(t, c, "photos", "", "", 3)
	want := []string{"dir/big.bin", "dir/large.bin", "empty", "small.bin"}
	for i := 0; i < 7; i++ {
		want = append(want, fmt.Sprintf("many/%02d", i))
	}
	sort.Strings(want)
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("list: %v, want %v", keys, want)
	}
	keys, prefixes := listAll(t, c, "photos", "", "/", 2)
	if fmt.Sprint(keys) != "[empty small.bin]" || fmt.Sprint(prefixes) != "[dir/ many/]" {
		t.Fatalf("list with delimiter: %v %v", keys, prefixes)
	}
	lv1, err := c.ListObjects(context.Background(), &s3.ListObjectsInput{Bucket: aws.String("photos"), Prefix: aws.String("many/"), MaxKeys: aws.Int32(4)})
	if err != nil || len(lv1.Contents) != 4 || !deref(lv1.IsTruncated) {
		t.Fatalf("list v1: %+v %v", lv1, err)
	}

	if _, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("copy of small"),
		CopySource: aws.String("photos/small.bin")}); err != nil {
		t.Fatalf("copy: %v", err)
	}
	mustGetExact(t, c, "photos", "copy of small", small)
	for _, m := range f.members {
		if has, sum := memberHas(t, m, "copy of small"); !has || sum != sum64(small) {
			t.Fatalf("copy on %s: has %v sha256 %q", m.id, has, sum)
		}
	}
	if _, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("x"),
		CopySource: aws.String("photos/nope")}); apiCode(err) != "NoSuchKey" {
		t.Fatalf("copy of a missing key: %v", err)
	}
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("small.bin")}); err != nil {
		t.Fatal(err)
	}
	for _, m := range f.members {
		if has, _ := memberHas(t, m, "small.bin"); has {
			t.Fatalf("deleted object still on %s", m.id)
		}
	}
	if _, err := get(c, "photos", "small.bin", ""); apiCode(err) != "NoSuchKey" {
		t.Fatalf("get after delete: %v", err)
	}
}
