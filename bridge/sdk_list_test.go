package bridge

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func testSDKList(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	keys := []string{"a.txt", "b/1", "b/2", "b/c/3", "c", "d/1", "e.txt", "f/g/h"}
	for i := 0; i < 25; i++ {
		keys = append(keys, fmt.Sprintf("many/%03d", i))
	}
	for _, k := range keys {
		putBytes(t, c, b, k, []byte(k))
	}
	// A pending multipart upload must not show in listings.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("hidden")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("hidden"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")}); err != nil {
		t.Fatal(err)
	}
	defer c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("hidden"), UploadId: mp.UploadId})

	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	sdkListV2(t, ctx, c, b, keys, sorted)
	sdkListV1(t, ctx, c, b)

	for _, k := range keys {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
}

// sdkListV2 lists with ListObjectsV2: paginated, with delimiter, prefix and
// start-after; sorted is every key put.
func sdkListV2(t *testing.T, ctx context.Context, c *s3.Client, b string, keys, sorted []string) {
	// v2, no delimiter, paginated by 4.
	var got []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &b, MaxKeys: aws.Int32(4)})
	pages := 0
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range pg.Contents {
			got = append(got, *o.Key)
			if *o.Size != int64(len(*o.Key)) {
				t.Fatalf("size of %s: %d", *o.Key, *o.Size)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(sorted, ",") || pages != (len(keys)+3)/4 {
		t.Fatalf("v2 listing (%d pages): %v", pages, got)
	}

	// v2 with delimiter, paginated by 2.
	got = nil
	p = s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &b, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range pg.Contents {
			got = append(got, *o.Key)
		}
		for _, cp := range pg.CommonPrefixes {
			got = append(got, *cp.Prefix)
		}
	}
	sort.Strings(got)
	if want := "a.txt,b/,c,d/,e.txt,f/,many/"; strings.Join(got, ",") != want {
		t.Fatalf("v2 delimiter listing: %v want %s", got, want)
	}

	// v2 with prefix and delimiter.
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, Prefix: aws.String("b/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lo.Contents) != 2 || len(lo.CommonPrefixes) != 1 || *lo.CommonPrefixes[0].Prefix != "b/c/" {
		t.Fatalf("prefix b/: %d objects, prefixes %v", len(lo.Contents), lo.CommonPrefixes)
	}
	// StartAfter.
	lo, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, StartAfter: aws.String("many/020")})
	if err != nil || len(lo.Contents) == 0 || *lo.Contents[0].Key != "many/021" {
		t.Fatalf("start-after: %v %v", err, lo.Contents)
	}
}

// sdkListV1 lists with ListObjects (markers), with and without delimiter.
func sdkListV1(t *testing.T, ctx context.Context, c *s3.Client, b string) {
	// v1 with markers, paginated by 3, with delimiter.
	var got []string
	marker := ""
	for {
		lv1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &b, Delimiter: aws.String("/"), MaxKeys: aws.Int32(3), Marker: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range lv1.Contents {
			got = append(got, *o.Key)
		}
		for _, cp := range lv1.CommonPrefixes {
			got = append(got, *cp.Prefix)
		}
		if !aws.ToBool(lv1.IsTruncated) {
			break
		}
		marker = aws.ToString(lv1.NextMarker)
	}
	sort.Strings(got)
	if want := "a.txt,b/,c,d/,e.txt,f/,many/"; strings.Join(got, ",") != want {
		t.Fatalf("v1 delimiter listing: %v want %s", got, want)
	}
	// v1 without delimiter.
	lv1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &b, Prefix: aws.String("many/"), MaxKeys: aws.Int32(10)})
	if err != nil || len(lv1.Contents) != 10 || !aws.ToBool(lv1.IsTruncated) {
		t.Fatalf("v1: %v %d", err, len(lv1.Contents))
	}
}
