package gateway

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const marker = "PLAINTEXT-MARKER-must-not-reach-a-provider"

// markedBytes is n random bytes with the marker every 32 KiB.
func markedBytes(n int) []byte {
	b := randBytes(n)
	for off := 0; off+len(marker) <= n; off += 32 << 10 {
		copy(b[off:], marker)
	}
	return b
}

// newEncFixture is a mirror-3 fixture whose repository is encrypted, with
// the gateway holding the owner's secret.
func newEncFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, ModeMirror, 3, 0)
	f.secret = FixedSecret(bytes.Repeat([]byte("owner-secret"), 3))
	r := f.repo
	r.Encrypted, r.Owner = true, "fb1owner"
	f.setRepo(r)
	f.start()
	return f
}

// noPlaintextOnDisk fails if any file of any member holds the marker.
func noPlaintextOnDisk(t *testing.T, f *fixture) {
	t.Helper()
	files := 0
	for _, m := range f.members {
		filepath.Walk(m.root, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return nil
			}
			files++
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(marker)) {
				t.Errorf("%s: plaintext on disk in %s", m.id, p)
			}
			return nil
		})
	}
	if files == 0 {
		t.Fatal("no files on the members' disks")
	}
}

func checkRange(t *testing.T, c *s3.Client, key string, data []byte, rng string, want []byte) {
	t.Helper()
	got, err := get(c, "photos", key, rng)
	if err != nil {
		t.Fatalf("%s %s: %v", key, rng, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s %s: %d bytes, want %d (content differs)", key, rng, len(got), len(want))
	}
}

// rangesOf checks fixed and random ranges of data against the gateway.
func rangesOf(t *testing.T, c *s3.Client, key string, data []byte, bounds ...int) {
	t.Helper()
	n := len(data)
	cs := 64 << 10
	check := func(a, b int) { // inclusive
		checkRange(t, c, key, data, fmt.Sprintf("bytes=%d-%d", a, b), data[a:min(b+1, n)])
	}
	check(0, 0)
	check(0, 99)
	check(n/2-500, n/2+500)
	check(n-1, n-1)
	check(n-10, n+1000)        // clamped at the end
	check(cs-1, cs)            // across a chunk boundary
	check(cs-3, 3*cs+7)        // several chunks
	for _, b := range bounds { // across part boundaries
		check(b-5, b+5)
		check(b, b)
		check(b-cs-1, b+cs+1)
	}
	checkRange(t, c, key, data, "bytes=-1", data[n-1:])
	checkRange(t, c, key, data, "bytes=-70000", data[n-70000:])
	checkRange(t, c, key, data, fmt.Sprintf("bytes=%d-", n-100000), data[n-100000:])
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := 0; i < 12; i++ {
		a := r.IntN(n)
		check(a, a+r.IntN(3*cs))
	}
	if _, err := get(c, "photos", key, fmt.Sprintf("bytes=%d-", n)); apiCode(err) != "InvalidRange" {
		t.Fatalf("range past the end: %v", err)
	}
}

func TestEncryptedPutGetRanges(t *testing.T) {
	f := newEncFixture(t)
	c := f.client(PermWrite)
	small := markedBytes(100 << 10)
	large := markedBytes(3<<20 + 12345)
	mp1 := markedBytes(2*(8<<20) + 3<<20 + 777) // last part 3 MiB: joined with the index
	mp2 := markedBytes(6<<20 + 6<<20 + 5)       // last part 6 MiB: the index alone
	mustPut(t, c, "photos", "small", small)
	mustPut(t, c, "photos", "dir/large", large)
	mustPut(t, c, "photos", "empty", nil)
	multipartPut(t, c, "photos", "mp1", mp1, 8<<20)
	multipartPut(t, c, "photos", "mp2", mp2, 6<<20)
	objs := map[string][]byte{"small": small, "dir/large": large, "empty": nil, "mp1": mp1, "mp2": mp2}
	for k, v := range objs {
		mustGetExact(t, c, "photos", k, v)
		head, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String(k)})
		if err != nil || deref(head.ContentLength) != int64(len(v)) {
			t.Fatalf("head %s: %v, %v", k, head, err)
		}
	}
	noPlaintextOnDisk(t, f)
	// The members' copies are ciphertext: larger than the plaintext.
	for _, m := range f.members {
		out, err := m.direct().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(m.id), Key: aws.String("small")})
		if err != nil || deref(out.ContentLength) <= int64(len(small)) {
			t.Fatalf("stored copy on %s: %v %v", m.id, out, err)
		}
	}
	rangesOf(t, c, "small", small)
	rangesOf(t, c, "dir/large", large)
	rangesOf(t, c, "mp1", mp1, 8<<20, 16<<20)
	rangesOf(t, c, "mp2", mp2, 6<<20)
	if _, err := get(c, "photos", "empty", "bytes=0-0"); apiCode(err) != "InvalidRange" {
		t.Fatalf("range of an empty object: %v", err)
	}
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("photos")})
	if err != nil || len(out.Contents) != len(objs) {
		t.Fatalf("list: %v %v", out, err)
	}
	for _, o := range out.Contents {
		if deref(o.Size) != int64(len(objs[*o.Key])) {
			t.Fatalf("list: %s has size %d, want %d", *o.Key, deref(o.Size), len(objs[*o.Key]))
		}
	}
	// Copies re-encrypt under the destination's name.
	for _, k := range []string{"small", "mp1"} {
		if _, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("copy/" + k),
			CopySource: aws.String("photos/" + k)}); err != nil {
			t.Fatalf("copy %s: %v", k, err)
		}
		mustGetExact(t, c, "photos", "copy/"+k, objs[k])
	}
	checkRange(t, c, "copy/mp1", mp1, "bytes=8388600-8388700", mp1[8388600:8388701])
	if _, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("x"),
		CopySource: aws.String("photos/nope")}); apiCode(err) != "NoSuchKey" {
		t.Fatalf("copy of a missing key: %v", err)
	}
	noPlaintextOnDisk(t, f)
	if recs, _ := ReadRepairQueue(f.state); len(recs) != 0 {
		t.Fatalf("repair queue after clean writes: %+v", recs)
	}
	if ents, _ := os.ReadDir(filepath.Join(f.state, "uploads")); len(ents) != 0 {
		t.Fatalf("upload state left: %v", ents)
	}
}
