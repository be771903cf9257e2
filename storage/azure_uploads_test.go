package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/flashback-network/flashback/testservers"
)

func TestAzureBlockIDs(t *testing.T) {
	id := azBlockID{kind: azBlockFinal, num: 10000, index: 70000, finished: 1234567890123, nonce: [8]byte{1, 2, 3}, md5: [16]byte{9, 8, 7}}
	s := id.String()
	if got, ok := parseAzBlockID(s); !ok || got != id {
		t.Errorf("round trip: %+v %v, want %+v", got, ok, id)
	}
	if len(s) != len(azBlockID{num: 1}.String()) {
		t.Errorf("block ids differ in length")
	}
	for _, bad := range []string{"", "not base64!", "QUJD", azBlockID{num: 0}.String(), azBlockID{num: maxParts + 1}.String(), azBlockID{num: 1, kind: 7}.String()} {
		if _, ok := parseAzBlockID(bad); ok {
			t.Errorf("parsed foreign id %q", bad)
		}
	}
}

func TestAzureStagedParts(t *testing.T) {
	var names []string
	var sizes []int64
	add := func(id azBlockID, size int64) {
		names, sizes = append(names, id.String()), append(sizes, size)
	}
	data := func(num int, nonce byte, index int) azBlockID {
		return azBlockID{num: num, nonce: [8]byte{nonce}, index: index}
	}
	final := func(num int, nonce byte, index int, when int64, sum byte) azBlockID {
		return azBlockID{kind: azBlockFinal, num: num, nonce: [8]byte{nonce}, index: index, finished: when, md5: [16]byte{sum}}
	}
	// Part 1: attempt 1 (two blocks), then attempt 2 finished later (one).
	add(data(1, 1, 0), 100)
	add(final(1, 1, 1, 10, 0xa1), 1)
	add(final(1, 2, 0, 20, 0xa2), 1)
	// Part 1, attempt 3: failed (no final block) although staged last.
	add(data(1, 3, 0), 100)
	// Part 2: final block staged but block 1 missing: incomplete.
	add(data(2, 1, 0), 100)
	add(final(2, 1, 2, 30, 0xb1), 1)
	// Part 3: empty.
	e := final(3, 1, 0, 40, 0xc1)
	e.kind = azBlockEmpty
	add(e, 1)
	// Part 4: three blocks listed out of order.
	add(final(4, 1, 2, 50, 0xd1), 1)
	add(data(4, 1, 1), 9)
	add(data(4, 1, 0), 50)
	// A block of someone else's format.
	names, sizes = append(names, "Zm9yZWlnbg=="), append(sizes, 50)

	got := azStagedParts(names, sizes)
	if len(got) != 3 {
		t.Fatalf("parts %v, want 1, 3 and 4", got)
	}
	p1 := got[1]
	if p1.Size != 1 || p1.ETag[:2] != "a2" || len(p1.blocks) != 1 || p1.blocks[0] != names[2] || !p1.LastModified.Equal(time.Unix(0, 20)) {
		t.Errorf("part 1 = %+v, want the second attempt", p1)
	}
	if p3 := got[3]; p3.Size != 0 || p3.ETag[:2] != "c1" || len(p3.blocks) != 0 {
		t.Errorf("empty part 3 = %+v", p3)
	}
	if p4 := got[4]; p4.Size != 60 || !slices.Equal(p4.blocks, []string{names[9], names[8], names[7]}) {
		t.Errorf("part 4 = %+v, want its blocks in index order", p4)
	}
	if l := sortedParts(got); len(l) != 3 || l[0].Num != 1 || l[1].Num != 3 || l[2].Num != 4 {
		t.Errorf("sortedParts = %+v", l)
	}
	// The winner does not depend on the listing order.
	if again := azStagedParts([]string{names[2], names[0], names[1]}, []int64{1, 100, 1}); again[1].ETag != p1.ETag {
		t.Errorf("order-dependent winner: %+v", again[1])
	}
}

// newTestAzure is an Azure backend on a fresh container of the Azurite at
// conn.
func newTestAzure(t *testing.T, conn string, cfg AzureConfig) *Azure {
	t.Helper()
	cfg.ConnectionString, cfg.Container = conn, uniqueName("az")
	a, err := NewAzure(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ContainerClient().Create(tctx(t), nil); err != nil {
		t.Fatalf("creating container: %v", err)
	}
	return a
}

// stagingNames lists the names under the uploads directory, uncommitted
// blobs included.
func stagingNames(t *testing.T, a *Azure) []string {
	t.Helper()
	pager := a.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to(a.prefix + azUploadsDir),
		Include: container.ListBlobsInclude{UncommittedBlobs: true}})
	var out []string
	for pager.More() {
		page, err := pager.NextPage(tctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			out = append(out, deref(it.Name))
		}
	}
	return out
}

// TestAzureUploads runs the Azure-specific upload tests on one Azurite.
func TestAzureUploads(t *testing.T) {
	conn := testservers.StartAzurite(t)
	t.Run("Blocks", func(t *testing.T) { testAzureUploadBlocks(t, conn) })
	t.Run("UnknownUploads", func(t *testing.T) { testAzureUnknownUploads(t, conn) })
	t.Run("PartStreams", func(t *testing.T) { testAzurePartStreams(t, conn) })
	t.Run("CompletionRetried", func(t *testing.T) { testAzureCompletionRetried(t, conn) })
}

// testAzureUploadBlocks runs parts larger than the block size (several
// blocks each), parts uploaded again, failed parts, an empty part, and
// checks that completion and abort leave no staged data.
func testAzureUploadBlocks(t *testing.T, conn string) {
	const bs = 64 << 10
	a := newTestAzure(t, conn, AzureConfig{Prefix: "u/", BlockSize: bs, Concurrency: 3})
	ctx := tctx(t)
	const key = "big/obj"
	id, err := a.CreateUpload(ctx, key, ObjectMeta{ContentType: "app/x"})
	if err != nil {
		t.Fatal(err)
	}
	p1old, p1, p2 := randBytes(21, 3*bs+17), randBytes(22, 5*bs+5), randBytes(23, 2*bs)
	putPart(t, a, key, id, 1, p1old)
	putPart(t, a, key, id, 2, p2)
	part1 := putPart(t, a, key, id, 1, p1) // replaces the first attempt
	part3 := putPart(t, a, key, id, 3, nil)
	// A part 2 failing after some blocks were staged leaves part 2 as it was,
	// and so does one longer than declared.
	failing := io.MultiReader(bytes.NewReader(randBytes(24, 3*bs)), iotest.ErrReader(errors.New("connection reset")))
	if _, err := a.PutUploadPart(ctx, key, id, 2, failing, 4*bs); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("failing part: %v", err)
	}
	long := randBytes(25, 2*bs+1)
	if _, err := a.PutUploadPart(ctx, key, id, 2, bytes.NewReader(long), 2*bs); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("part longer than declared: %v", err)
	}
	listed, err := a.UploadParts(ctx, key, id)
	if err != nil || len(listed) != 3 || listed[0].ETag != md5hex(p1) || listed[0].Size != int64(len(p1)) ||
		listed[1].ETag != md5hex(p2) || listed[1].Size != 2*bs || listed[2].Size != 0 || listed[2].ETag != md5hex(nil) {
		t.Fatalf("UploadParts = %+v, %v", listed, err)
	}
	if l, err := a.List(ctx, "", "", 0); err != nil || len(l) != 0 {
		t.Errorf("List shows the staging blob: %+v %v", l, err)
	}
	info, err := a.CompleteUpload(ctx, key, id, []UploadPart{part1, listed[1], part3})
	if err != nil {
		t.Fatal(err)
	}
	checkCompleted(t, a, key, info, "app/x", "", p1, p2, nil)
	// Abort drops everything staged.
	id2, err := a.CreateUpload(ctx, key, ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	putPart(t, a, key, id2, 1, p1)
	if n := stagingNames(t, a); len(n) != 1 {
		t.Fatalf("staging names during an upload: %q", n)
	}
	if err := a.AbortUpload(ctx, key, id2); err != nil {
		t.Fatal(err)
	}
	if n := stagingNames(t, a); len(n) != 0 {
		t.Errorf("staging data left after completion and abort: %q", n)
	}
	checkCompleted(t, a, key, info, "app/x", "", p1, p2, nil) // the abort did not touch the object
}

// testAzureUnknownUploads: ids that were never issued, belong to another
// key, or are malformed name no upload.
func testAzureUnknownUploads(t *testing.T, conn string) {
	a := newTestAzure(t, conn, AzureConfig{})
	ctx := tctx(t)
	id, err := a.CreateUpload(ctx, "k1", ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("part")
	for _, c := range []struct{ key, id string }{{"k2", id}, {"k1", strings.Repeat("0", 32)}, {"k1", "../k1"}, {"k1", strings.ToUpper(id)}} {
		if _, err := a.PutUploadPart(ctx, c.key, c.id, 1, bytes.NewReader(data), 4); !errors.Is(err, ErrNotFound) {
			t.Errorf("PutUploadPart %q %q: %v, want ErrNotFound", c.key, c.id, err)
		}
		if _, err := a.UploadParts(ctx, c.key, c.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("UploadParts %q %q: %v, want ErrNotFound", c.key, c.id, err)
		}
		if _, err := a.CompleteUpload(ctx, c.key, c.id, []UploadPart{{Num: 1, ETag: md5hex(data)}}); !errors.Is(err, ErrNotFound) {
			t.Errorf("CompleteUpload %q %q: %v, want ErrNotFound", c.key, c.id, err)
		}
		if err := a.AbortUpload(ctx, c.key, c.id); err != nil {
			t.Errorf("AbortUpload %q %q: %v", c.key, c.id, err)
		}
	}
	// The real upload was untouched by the aborts above; a part list naming
	// a part it does not have is refused and leaves it completable.
	p := putPart(t, a, "k1", id, 1, data)
	if _, err := a.CompleteUpload(ctx, "k1", id, []UploadPart{{Num: 1, ETag: md5hex([]byte("other"))}}); err == nil {
		t.Error("completion with a wrong part ETag succeeded")
	}
	info, err := a.CompleteUpload(ctx, "k1", id, []UploadPart{p})
	if err != nil {
		t.Fatal(err)
	}
	checkCompleted(t, a, "k1", info, "", "", data)
	// A user object that merely looks like a staging blob is listed.
	put(t, a, azUploadsDir+"x", data, ObjectMeta{})
	if l, err := a.List(ctx, "", "", 0); err != nil || len(l) != 2 {
		t.Errorf("List = %q, %v; want k1 and %sx", keysOf(l), err, azUploadsDir)
	}
}

// testAzurePartStreams: a 64 MiB part goes up in blocks with the heap
// bounded by the block buffers (2 x 8 MiB by default), as a Put does.
func testAzurePartStreams(t *testing.T, conn string) {
	a := newTestAzure(t, conn, AzureConfig{})
	id, err := a.CreateUpload(tctx(t), "big", ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var p UploadPart
	peak, alloc := heapGrowth(func() {
		p, err = a.PutUploadPart(tctx(t), "big", id, 1, &genReader{size: largeSize}, largeSize)
	})
	t.Logf("64 MiB part: heap growth peak %.1f MiB, allocated %.1f MiB", float64(peak)/heapReportUnit, float64(alloc)/heapReportUnit)
	if err != nil || p.ETag != genMD5(largeSize) || p.Size != largeSize {
		t.Fatalf("PutUploadPart = %+v, %v", p, err)
	}
	if peak > maxHeapGrowth {
		t.Errorf("a 64 MiB part grew the heap by %.1f MiB (limit %d MiB): not streaming", float64(peak)/heapReportUnit, maxHeapGrowth>>20)
	}
	info, err := a.CompleteUpload(tctx(t), "big", id, []UploadPart{p})
	if err != nil || info.Size != largeSize {
		t.Fatalf("CompleteUpload = %+v, %v", info, err)
	}
	data, _ := get(t, a, "big", &Range{largeSize - 100, largeSize + 100})
	wantTail, _ := io.ReadAll(&genReader{size: largeSize, off: largeSize - 100})
	if !bytes.Equal(data, wantTail) {
		t.Errorf("tail of the completed object differs")
	}
}

// testAzureCompletionRetried: a completion that failed after committing the
// staging blob (before or during the copy) leaves the upload listing its
// parts, the empty one included, and completable.
func testAzureCompletionRetried(t *testing.T, conn string) {
	const bs = 64 << 10
	a := newTestAzure(t, conn, AzureConfig{BlockSize: bs})
	ctx := tctx(t)
	id, err := a.CreateUpload(ctx, "k", ObjectMeta{ContentType: "app/r", UserMeta: map[string]string{"who": "r"}})
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := randBytes(41, 3*bs+1), randBytes(42, 2)
	parts := []UploadPart{putPart(t, a, "k", id, 1, d1), putPart(t, a, "k", id, 2, d2), putPart(t, a, "k", id, 3, nil)}
	putPart(t, a, "k", id, 4, d2) // not chosen
	// The first half of CompleteUpload, as a failed completion leaves it.
	sc, props, err := a.upload(ctx, "k", id)
	if err != nil {
		t.Fatal(err)
	}
	staged, err := stagedParts(ctx, sc, "k", props)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := planCompletion("k", staged, parts)
	if err != nil {
		t.Fatal(err)
	}
	if err := commitStaging(ctx, sc, props, plan, "k"); err != nil {
		t.Fatal(err)
	}
	listed, err := a.UploadParts(ctx, "k", id)
	if err != nil || len(listed) != 3 {
		t.Fatalf("UploadParts after a failed completion = %+v, %v; want the 3 committed parts", listed, err)
	}
	for i, p := range listed {
		if p.Num != parts[i].Num || p.ETag != parts[i].ETag || p.Size != parts[i].Size {
			t.Errorf("part %d listed as %+v, want %+v", i+1, p, parts[i])
		}
	}
	if l, err := a.List(ctx, "", "", 0); err != nil || len(l) != 0 {
		t.Errorf("List shows the committed staging blob: %+v %v", l, err)
	}
	info, err := a.CompleteUpload(ctx, "k", id, parts)
	if err != nil {
		t.Fatal(err)
	}
	checkCompleted(t, a, "k", info, "app/r", "r", d1, d2, nil)
}

// TestAzureCompletionTime measures completing a multipart upload of
// FLASHBACK_AZURE_MPU_MIB MiB (16 MiB parts) both ways in the same run:
// parts stored as objects and composed (the path before Azure had
// uploads: every byte streamed again), and the native upload. It logs
// both; it asserts the content, not the time. Skipped unless the variable
// is set.
func TestAzureCompletionTime(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("FLASHBACK_AZURE_MPU_MIB"))
	if mib <= 0 {
		t.Skip("set FLASHBACK_AZURE_MPU_MIB (e.g. 1024) to measure")
	}
	a := newTestAzure(t, testservers.StartAzurite(t), AzureConfig{})
	ctx := tctx(t)
	const partSize = 16 << 20
	part := randBytes(31, partSize)
	n := mib * (1 << 20) / partSize
	var keys, etags []string
	var parts []UploadPart
	id, err := a.CreateUpload(ctx, "native", ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var putTime, partTime time.Duration
	for i := range n {
		part[0] = byte(i) // parts differ
		k := "parts/" + strconv.Itoa(i)
		start := time.Now()
		put(t, a, k, part, ObjectMeta{})
		putTime += time.Since(start)
		keys, etags = append(keys, k), append(etags, md5hex(part))
		start = time.Now()
		parts = append(parts, putPart(t, a, "native", id, i+1, part))
		partTime += time.Since(start)
	}
	t.Logf("uploading the %d parts: as objects %v, into the native upload %v", n, putTime.Round(time.Millisecond), partTime.Round(time.Millisecond))
	want, _ := MultipartETag(etags)
	start := time.Now()
	composed, err := a.Compose(ctx, "composed", keys, ObjectMeta{})
	composeTime := time.Since(start)
	if err != nil || composed.ETag != want || composed.Size != int64(n*partSize) {
		t.Fatalf("Compose = %+v, %v", composed, err)
	}
	start = time.Now()
	native, err := a.CompleteUpload(ctx, "native", id, parts)
	nativeTime := time.Since(start)
	if err != nil || native.ETag != want || native.Size != int64(n*partSize) {
		t.Fatalf("CompleteUpload = %+v, %v", native, err)
	}
	if h, err := a.Head(ctx, "native"); err != nil || h.ETag != want || h.Size != native.Size {
		t.Fatalf("Head native = %+v, %v", h, err)
	}
	last := int64(n-1) * partSize
	if b, _ := get(t, a, "native", &Range{Start: last, End: last + 1}); !bytes.Equal(b, []byte{byte(n - 1), part[1]}) {
		t.Fatalf("native object: bytes %v at the last part's start", b)
	}
	t.Logf("completing %d MiB in %d parts: compose (stream again) %v, native upload %v, ratio %.1f",
		mib, n, composeTime.Round(time.Millisecond), nativeTime.Round(time.Millisecond), composeTime.Seconds()/nativeTime.Seconds())
}
