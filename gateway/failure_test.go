package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestMemberDown(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	c := f.client(PermWrite)
	objs := map[string][]byte{}
	for i := 0; i < 5; i++ {
		k := fmt.Sprintf("obj-%d", i)
		objs[k] = randBytes(1000 + i*300000)
		mustPut(t, c, "photos", k, objs[k])
	}
	big := randBytes(24 << 20)
	multipartPut(t, c, "photos", "big", big, 8<<20)
	objs["big"] = big

	down := f.members[0] // res-1: also the first one reads try on a tie
	down.stop(t)
	for k, data := range objs {
		mustGetExact(t, c, "photos", k, data)
	}
	fresh := randBytes(3 << 20)
	mustPut(t, c, "photos", "after", fresh)
	objs["after"] = fresh
	mustGetExact(t, c, "photos", "after", fresh)
	if recs := repairFor(t, f, down.id, "after", RepairPut); len(recs) != 1 {
		t.Fatalf("repair queue for the missed write: %+v", recs)
	}
	for _, m := range f.members[1:] {
		if has, sum := memberHas(t, m, "after"); !has || sum != sum64(fresh) {
			t.Fatalf("live member %s: has %v sum %q", m.id, has, sum)
		}
	}
	multipartPut(t, c, "photos", "big2", big[:12<<20], 5<<20)
	if recs := repairFor(t, f, down.id, "big2", RepairPut); len(recs) != 1 {
		t.Fatalf("repair queue for the missed multipart: %+v", recs)
	}
	keys, _ := listAll(t, c, "photos", "", "", 2)
	if len(keys) != len(objs)+1 {
		t.Fatalf("list with a member down: %v", keys)
	}
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("obj-0")}); err != nil {
		t.Fatal(err)
	}
	if recs := repairFor(t, f, down.id, "obj-0", RepairDelete); len(recs) != 1 {
		t.Fatalf("repair queue for the missed delete: %+v", recs)
	}
}

func TestNoQuorumLeavesNothing(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 3)
	c := f.client(PermWrite)
	f.members[2].stop(t)
	err := put(t, c, "photos", "lost", randBytes(2<<20))
	if apiCode(err) != "ServiceUnavailable" {
		t.Fatalf("put without quorum: %v", err)
	}
	for _, m := range f.members[:2] {
		if has, _ := memberHas(t, m, "lost"); has {
			t.Fatalf("failed write visible on %s", m.id)
		}
	}
	if _, err := get(c, "photos", "lost", ""); apiCode(err) != "NoSuchKey" {
		t.Fatalf("get of the failed write: %v", err)
	}
	// res-3 cannot be asked whether it stored the write, so the intent
	// stays for the next start; once res-3 is out of the repository, a
	// start resolves it.
	if its, _ := f.gw.intents.list(); len(its) != 1 || its[0].Key != "lost" {
		t.Fatalf("intents: %+v", its)
	}
	orig := f.repo
	r := orig
	r.Members = r.Members[:2]
	f.setRepo(r)
	f.start()
	if its, _ := f.gw.intents.list(); len(its) != 0 {
		t.Fatalf("intents left: %+v", its)
	}
	f.setRepo(orig)
	c = f.client(PermWrite)
	if _, err := c.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String("photos"), Key: aws.String("mp")}); apiCode(err) != "ServiceUnavailable" {
		t.Fatalf("multipart without quorum: %v", err)
	}
	for _, m := range f.members[:2] {
		out, err := m.direct().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(m.id)})
		if err != nil || len(out.Uploads) != 0 {
			t.Fatalf("uploads left on %s: %v %v", m.id, out, err)
		}
	}
}

func TestFailoverMidStream(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 0)
	c := f.client(PermWrite)
	data := randBytes(12 << 20)
	mustPut(t, c, "photos", "movie", data)
	small := randBytes(5 << 20)
	mustPut(t, c, "photos", "clip", small)

	// A proxy in front of res-3, the best scored member: reads start there.
	p := newCutProxy(t, f.members[2].url)
	r := f.repo
	r.Members[2].Endpoint, r.Members[2].Score = p.url(), 90
	f.setRepo(r)
	f.start() // fresh latency figures: the score decides
	c = f.client(PermRead)
	p.limit.Store(3 << 20)
	mustGetExact(t, c, "photos", "movie", data)
	if p.cuts.Load() == 0 {
		t.Fatal("the proxied member was not read from (no cut happened)")
	}
	got, err := get(c, "photos", "movie", "bytes=1000-9999999")
	if err != nil || string(got) != string(data[1000:10000000]) {
		t.Fatalf("ranged read across a cut: %d bytes, %v", len(got), err)
	}
	mustGetExact(t, c, "photos", "clip", small)
}

func TestCorruptCopy(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 0)
	c := f.client(PermWrite)
	data := randBytes(300 << 10)
	mustPut(t, c, "photos", "doc.pdf", data)
	bad := f.members[0] // read first on a tie (all scores equal, ids sorted)
	path := objectFile(t, bad, "doc.pdf")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[1000] ^= 0xff
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	f.start()
	c = f.client(PermRead)
	mustGetExact(t, c, "photos", "doc.pdf", data)
	if recs := repairFor(t, f, bad.id, "doc.pdf", RepairBad); len(recs) != 1 {
		t.Fatalf("bad copy not queued: %+v", recs)
	}
	for _, m := range f.members[1:] {
		if recs := repairFor(t, f, m.id, "", ""); len(recs) != 0 {
			t.Fatalf("good copy on %s queued: %+v", m.id, recs)
		}
	}
	// Later reads avoid the bad copy (no second record).
	mustGetExact(t, c, "photos", "doc.pdf", data)
	if recs := repairFor(t, f, bad.id, "doc.pdf", RepairBad); len(recs) != 1 {
		t.Fatalf("bad copy read again: %+v", recs)
	}
}

func TestCorruptLargeCopyFailsResponse(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 0)
	c := f.client(PermWrite)
	data := randBytes(10 << 20) // above VerifyBelow: checked as it ends
	mustPut(t, c, "photos", "large", data)
	bad := f.members[0]
	path := objectFile(t, bad, "large")
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0}
	fh.ReadAt(b, 5<<20)
	b[0] ^= 0x55
	fh.WriteAt(b, 5<<20)
	fh.Close()
	f.start()
	c = f.client(PermRead)
	got, err := get(c, "photos", "large", "")
	if err == nil && string(got) == string(data) {
		t.Fatal("read served from the good copies: the test did not exercise the bad one")
	}
	if err == nil {
		t.Fatal("a corrupted large copy was served as a complete response")
	}
	if recs := repairFor(t, f, bad.id, "large", RepairBad); len(recs) != 1 {
		t.Fatalf("bad copy not queued: %+v", recs)
	}
	mustGetExact(t, c, "photos", "large", data) // the bad copy is avoided now
}

func TestRestartResolvesIntents(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	ctx := context.Background()
	// What a gateway killed mid-PUT leaves: an intent, and copies on some
	// members (carrying the write id).
	write := func(key, id string, on ...*memberBridge) {
		for _, m := range on {
			if _, err := m.direct().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.id), Key: aws.String(key),
				Body: bytesReader(randBytes(1000)), Metadata: map[string]string{writeIDMeta: id}}); err != nil {
				t.Fatal(err)
			}
		}
		it := Intent{WriteID: id, Time: time.Now().UTC(), Repo: "photos", Key: key, Quorum: 2, Members: []string{"res-1", "res-2", "res-3"}}
		if err := f.gw.intents.put(it); err != nil {
			t.Fatal(err)
		}
	}
	write("below", randHex(16), f.members[0])
	write("atquorum", randHex(16), f.members[0], f.members[1])
	f.start()
	for _, m := range f.members {
		if has, _ := memberHas(t, m, "below"); has {
			t.Fatalf("below-quorum write still on %s after restart", m.id)
		}
	}
	for _, m := range f.members[:2] {
		if has, _ := memberHas(t, m, "atquorum"); !has {
			t.Fatalf("quorum write gone from %s", m.id)
		}
	}
	if recs := repairFor(t, f, "res-3", "atquorum", RepairPut); len(recs) != 1 {
		t.Fatalf("member missing the quorum write not queued: %+v", recs)
	}
	if its, _ := f.gw.intents.list(); len(its) != 0 {
		t.Fatalf("intents left: %+v", its)
	}
}

func TestInterruptedMultipartAborted(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 0)
	c := f.client(PermWrite)
	ctx := context.Background()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("photos"), Key: aws.String("half")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("photos"), Key: aws.String("half"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytesReader(randBytes(6 << 20))}); err != nil {
		t.Fatal(err)
	}
	uploadsOn := func(m *memberBridge) int {
		out, err := m.direct().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(m.id)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}
	for _, m := range f.members {
		if uploadsOn(m) != 1 {
			t.Fatalf("upload not mirrored on %s", m.id)
		}
	}
	// The upload survives a restart (its part mapping is on disk)...
	f.start()
	data := randBytes(5 << 20)
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("photos"), Key: aws.String("half"), UploadId: up.UploadId,
		PartNumber: aws.Int32(2), Body: bytesReader(data)}); err == nil {
		t.Fatal("old client still talks to the stopped gateway")
	}
	c = f.client(PermWrite)
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("photos"), Key: aws.String("half"), UploadId: up.UploadId,
		PartNumber: aws.Int32(2), Body: bytesReader(data)}); err != nil {
		t.Fatalf("part after restart: %v", err)
	}
	parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("photos"), Key: aws.String("half"), UploadId: up.UploadId})
	if err != nil || len(parts.Parts) != 2 || deref(parts.Parts[1].Size) != int64(len(data)) {
		t.Fatalf("list parts: %+v %v", parts, err)
	}
	// ...and one left past MaxUploadAge is aborted on every member at start.
	f.stopGateway()
	gw, err := New(ctx, Config{Directory: f.dir, StateDir: f.state, MaxUploadAge: time.Nanosecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	_ = gw
	for _, m := range f.members {
		if n := uploadsOn(m); n != 0 {
			t.Fatalf("%d orphan uploads on %s", n, m.id)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(f.state, "uploads")); len(ents) != 0 {
		t.Fatalf("upload records left: %v", ents)
	}
	// Abort removes an upload everywhere.
	up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("photos"), Key: aws.String("x")})
	if err == nil {
		t.Fatalf("the stopped gateway took an upload: %v", up2)
	}
}

func TestStalledMemberDropped(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	p := newCutProxy(t, f.members[2].url)
	p.stallAfter.Store(2 << 20)
	r := f.repo
	r.Members[2].Endpoint = p.url()
	f.setRepo(r)
	f.stall = time.Second
	f.start()
	c := f.client(PermWrite)
	data := randBytes(40 << 20)
	t0 := time.Now()
	mustPut(t, c, "photos", "slow", data)
	if p.stalls.Load() == 0 {
		t.Fatal("the member did not stall")
	}
	t.Logf("PUT with a stalled member took %v", time.Since(t0))
	for _, m := range f.members[:2] {
		if has, sum := memberHas(t, m, "slow"); !has || sum != sum64(data) {
			t.Fatalf("%s: has %v sum %q", m.id, has, sum)
		}
	}
	if has, _ := memberHas(t, f.members[2], "slow"); has {
		t.Fatal("the stalled member committed the object")
	}
	if recs := repairFor(t, f, "res-3", "slow", RepairPut); len(recs) != 1 {
		t.Fatalf("stalled member not queued: %+v", recs)
	}
	mustGetExact(t, c, "photos", "slow", data)
}
