package bridge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

// TestListingSemantics: EncodingType=url is honoured and echoed (v1 and
// v2), no Delimiter element comes back when none was sent, FetchOwner
// returns the Owner (v1 always does), an empty continuation token is
// echoed, and an invalid encoding type is refused.
func TestListingSemantics(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	putBytes(t, c, "res-1", "sp ace/a+b", []byte("1"))
	putBytes(t, c, "res-1", "x/é", []byte("2"))

	for _, q := range []string{"encoding-type=url", "list-type=2&encoding-type=url"} {
		r := f.raw(t, keyW1, "GET", "/res-1?"+q, nil, nil)
		for _, want := range []string{"<EncodingType>url</EncodingType>", "<Key>sp+ace/a%2Bb</Key>", "<Key>x/%C3%A9</Key>"} {
			if r.status != 200 || !strings.Contains(r.body, want) {
				t.Errorf("%s: %d, no %s in %s", q, r.status, want, r.body)
			}
		}
		if strings.Contains(r.body, "<Delimiter") {
			t.Errorf("%s: Delimiter element without a delimiter: %s", q, r.body)
		}
		r = f.raw(t, keyW1, "GET", "/res-1?"+q+"&delimiter=%2B&prefix=sp%20ace/", nil, nil)
		for _, want := range []string{"<Delimiter>%2B</Delimiter>", "<Prefix>sp+ace/</Prefix>", "<Prefix>sp+ace/a%2B</Prefix>"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("%s with delimiter +: no %s in %s", q, want, r.body)
			}
		}
	}
	if r := f.raw(t, keyW1, "GET", "/res-1?list-type=2&encoding-type=base64", nil, nil); r.status != 400 || !strings.Contains(r.body, "InvalidArgument") {
		t.Errorf("encoding-type=base64: %d %s", r.status, r.body)
	}
	r := f.raw(t, keyW1, "GET", "/res-1?list-type=2&continuation-token=", nil, nil)
	if !strings.Contains(r.body, "<ContinuationToken></ContinuationToken>") {
		t.Errorf("empty continuation token not echoed: %s", r.body)
	}

	l2, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("res-1"), FetchOwner: aws.Bool(true)})
	if err != nil || len(l2.Contents) != 2 || l2.Contents[0].Owner == nil || aws.ToString(l2.Contents[0].Owner.ID) != "res-1" {
		t.Fatalf("FetchOwner: %v %+v", err, l2.Contents)
	}
	l2, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("res-1")})
	if err != nil || l2.Contents[0].Owner != nil {
		t.Fatalf("owner without FetchOwner: %v %+v", err, l2.Contents[0].Owner)
	}
	l1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("res-1")})
	if err != nil || l1.Contents[0].Owner == nil || aws.ToString(l1.Contents[0].Owner.ID) != "res-1" {
		t.Fatalf("ListObjects owner: %v %+v", err, l1.Contents)
	}
}

// TestDeleteObjectsLimit: a DeleteObjects of more than 1,000 keys is
// refused as S3 does (MalformedXML), and deletes nothing; 1,000 is fine.
func TestDeleteObjectsLimit(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	putBytes(t, c, "res-1", "k0", []byte("keep"))
	ids := func(n int) []types.ObjectIdentifier {
		out := make([]types.ObjectIdentifier, n)
		for i := range out {
			out[i] = types.ObjectIdentifier{Key: aws.String(fmt.Sprintf("k%d", i))}
		}
		return out
	}
	_, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("res-1"), Delete: &types.Delete{Objects: ids(1001)}})
	wantCode(t, err, "MalformedXML", 400)
	if got := getAll(t, c, "res-1", "k0"); string(got) != "keep" {
		t.Fatal("refused DeleteObjects deleted k0")
	}
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("res-1"), Delete: &types.Delete{Objects: ids(1000)}})
	if err != nil || len(out.Deleted) != 1000 {
		t.Fatalf("DeleteObjects of 1000: %v (%d deleted)", err, len(out.Deleted))
	}
}

// TestNotModifiedHeaders: a 304 answer carries the object's ETag and
// Last-Modified, on GET and HEAD.
func TestNotModifiedHeaders(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := f.sdk(keyW1)
	putBytes(t, c, "res-1", "cached", []byte("content"))
	h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("res-1"), Key: aws.String("cached")})
	if err != nil {
		t.Fatal(err)
	}
	etag, mod := aws.ToString(h.ETag), h.LastModified.UTC().Format(http.TimeFormat)
	for _, cond := range []map[string]string{
		{"If-None-Match": etag},
		{"If-Modified-Since": mod},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			r := f.raw(t, keyW1, method, "/res-1/cached", cond, nil)
			if r.status != 304 || r.header.Get("ETag") != etag || r.header.Get("Last-Modified") != mod {
				t.Errorf("%s %v: %d ETag %q Last-Modified %q, want 304 %q %q", method, cond, r.status, r.header.Get("ETag"), r.header.Get("Last-Modified"), etag, mod)
			}
		}
	}
}

// TestMinioGoListsOddKeys: minio-go asks for EncodingType=url and decodes
// what it lists; keys with "+", "%", spaces and non-ASCII come back as
// they were written.
func TestMinioGoListsOddKeys(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	m := f.minio(keyW1)
	want := []string{"100% sure", "a+b/c d", "é/ü+%2B"}
	for _, k := range want {
		putBytes(t, f.sdk(keyW1), "res-1", k, []byte("x"))
	}
	var got []string
	for o := range m.ListObjects(context.Background(), "res-1", minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		got = append(got, o.Key)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("minio-go listed %q, want %q", got, want)
	}
}
