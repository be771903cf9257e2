package gateway

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A member dying mid-GET (its connection cut after 1 MiB) of encrypted
// objects, single and multipart, full and ranged: the read resumes on
// another member at the failing chunk and the bytes are exact.
func TestEncryptedFailoverMidStream(t *testing.T) {
	f := newEncFixture(t)
	c := f.client(PermWrite)
	single := markedBytes(6<<20 + 999)
	multi := markedBytes(5<<20 + 5<<20 + 4321)
	mustPut(t, c, "photos", "single", single)
	multipartPut(t, c, "photos", "multi", multi, 5<<20)

	p := newCutProxy(t, f.members[2].url)
	r := f.repo
	r.Members[2].Endpoint, r.Members[2].Score = p.url(), 90
	f.setRepo(r)
	f.start()
	c = f.client(PermRead)
	p.limit.Store(1 << 20)
	for k, v := range map[string][]byte{"single": single, "multi": multi} {
		before := p.cuts.Load()
		mustGetExact(t, c, "photos", k, v)
		if p.cuts.Load() == before {
			t.Fatalf("%s: the proxied member was not read from (no cut)", k)
		}
		f.start() // forget the failure: the proxied member is read first again
		c = f.client(PermRead)
		before = p.cuts.Load()
		checkRange(t, c, k, v, "bytes=4000000-9999999", v[4000000:min(len(v), 10000000)])
		if p.cuts.Load() == before {
			t.Fatalf("%s range: no cut", k)
		}
		f.start()
		c = f.client(PermRead)
	}
	if recs, _ := ReadRepairQueue(f.state); len(recs) != 0 {
		t.Fatalf("a broken connection queued repairs: %+v", recs)
	}
}

// flipByte flips one byte of the member's stored copy of key at off.
func flipByte(t *testing.T, m *memberBridge, key string, off int64) {
	t.Helper()
	path := objectFile(t, m, key)
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b := []byte{0}
	if _, err := fh.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x20
	if _, err := fh.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// One flipped byte in one member's copy: in a chunk mid-object, or in the
// header (salt): reads are still exact, from the other copies, and that
// copy alone is queued for repair.
func TestEncryptedCorruptCopy(t *testing.T) {
	f := newEncFixture(t)
	c := f.client(PermWrite)
	data := markedBytes(12<<20 + 5)
	hdr := markedBytes(300 << 10)
	mustPut(t, c, "photos", "mid", data)
	mustPut(t, c, "photos", "hdr", hdr)
	bad := f.members[0] // read first on a tie
	flipByte(t, bad, "mid", 7<<20)
	flipByte(t, bad, "hdr", 20) // in the salt
	for k, v := range map[string][]byte{"mid": data, "hdr": hdr} {
		f.start() // fresh latency figures: the tie puts the bad copy first
		c = f.client(PermRead)
		mustGetExact(t, c, "photos", k, v)
	}
	for _, k := range []string{"mid", "hdr"} {
		if recs := repairFor(t, f, bad.id, k, RepairBad); len(recs) != 1 {
			t.Fatalf("bad copy of %s not queued: %+v", k, recs)
		}
	}
	for _, m := range f.members[1:] {
		if recs := repairFor(t, f, m.id, "", ""); len(recs) != 0 {
			t.Fatalf("good copy on %s queued: %+v", m.id, recs)
		}
	}
	checkRange(t, c, "mid", data, "bytes=7000000-7400000", data[7000000:7400001])
}

// A gateway with another owner secret reads nothing: a clear error, never
// garbage, and no copy is taken for bad.
func TestEncryptedWrongSecret(t *testing.T) {
	f := newEncFixture(t)
	c := f.client(PermWrite)
	data := markedBytes(1 << 20)
	mustPut(t, c, "photos", "obj", data)
	multipartPut(t, c, "photos", "mp", markedBytes(6<<20), 5<<20)
	f.secret = FixedSecret(bytes.Repeat([]byte("another-secret!!"), 2))
	f.start()
	c = f.client(PermRead)
	for _, k := range []string{"obj", "mp"} {
		for _, rng := range []string{"", "bytes=100-200", "bytes=-10"} {
			got, err := get(c, "photos", k, rng)
			if apiCode(err) != "DecryptionFailed" {
				t.Fatalf("%s %q with the wrong secret: %d bytes, %v", k, rng, len(got), err)
			}
		}
	}
	if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("mp")}); err == nil {
		t.Fatal("HEAD of a multipart object with the wrong secret succeeded")
	}
	if recs, _ := ReadRepairQueue(f.state); len(recs) != 0 {
		t.Fatalf("a wrong secret queued repairs: %+v", recs)
	}
}

// An encrypted repository without an owner secret is refused and nothing
// is stored.
func TestEncryptedRepoRefusedWithoutSecret(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 0)
	r := f.repo
	r.Encrypted, r.Owner = true, "fb1owner"
	f.setRepo(r)
	c := f.client(PermWrite)
	if err := put(t, c, "photos", "secret", []byte("plaintext")); apiCode(err) != "NotImplemented" {
		t.Fatalf("put on an encrypted repo: %v", err)
	}
	for _, m := range f.members {
		if has, _ := memberHas(t, m, "secret"); has {
			t.Fatalf("plaintext stored on %s", m.id)
		}
	}
	if _, err := c.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String("photos"), Key: aws.String("s")}); apiCode(err) != "NotImplemented" {
		t.Fatalf("multipart on an encrypted repo: %v", err)
	}
	for _, m := range f.members {
		if _, err := m.direct().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(m.id), Key: aws.String("there"), Body: bytesReader([]byte("x"))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := get(c, "photos", "there", ""); apiCode(err) != "NotImplemented" {
		t.Fatalf("get on an encrypted repo without a secret: %v", err)
	}
	// A secret too short to derive a key is the same refusal.
	f.secret = FixedSecret([]byte("short"))
	f.start()
	c = f.client(PermWrite)
	if err := put(t, c, "photos", "secret", []byte("plaintext")); apiCode(err) != "NotImplemented" {
		t.Fatalf("put with a short secret: %v", err)
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/secret"
	if err := os.WriteFile(p, bytes.Repeat([]byte{9}, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSecretFile(p); err == nil {
		t.Fatal("a world-readable secret file was accepted")
	}
	os.Chmod(p, 0o600)
	if sec, err := ReadSecretFile(p); err != nil || len(sec) != 32 {
		t.Fatalf("secret file: %d bytes, %v", len(sec), err)
	}
	os.WriteFile(p, []byte("short"), 0o600)
	if _, err := ReadSecretFile(p); err == nil {
		t.Fatal("a short secret was accepted")
	}
}

// A normal repository encrypts per folder: the name bound into the chunks
// is the key with its folder, sizes listed are the plaintext's, and a
// copy within a folder works.
func TestEncryptedNormalMode(t *testing.T) {
	f := newFixture(t, ModeNormal, 2, 0)
	f.secret = FixedSecret(bytes.Repeat([]byte("owner-secret"), 3))
	r := f.repo
	r.Encrypted, r.Owner = true, "fb1owner"
	f.setRepo(r)
	f.start()
	c := f.client(PermWrite)
	a, b := markedBytes(200<<10+1), markedBytes(11<<20)
	mustPut(t, c, "photos", "res-1/a", a)
	multipartPut(t, c, "photos", "res-2/b", b, 5<<20)
	mustGetExact(t, c, "photos", "res-1/a", a)
	mustGetExact(t, c, "photos", "res-2/b", b)
	checkRange(t, c, "res-2/b", b, "bytes=5242800-5242900", b[5242800:5242901])
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("photos")})
	if err != nil || len(out.Contents) != 2 || deref(out.Contents[0].Size) != int64(len(a)) || deref(out.Contents[1].Size) != int64(len(b)) {
		t.Fatalf("list: %+v %v", out, err)
	}
	if _, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String("photos"), Key: aws.String("res-2/b2"),
		CopySource: aws.String("photos/res-2/b")}); err != nil {
		t.Fatalf("copy: %v", err)
	}
	mustGetExact(t, c, "photos", "res-2/b2", b)
	noPlaintextOnDisk(t, f)
}
