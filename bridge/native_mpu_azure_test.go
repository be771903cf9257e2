package bridge

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flashback-network/flashback/storage"
	"github.com/flashback-network/flashback/testservers"
)

// azureBackend is a storage.Azure on a fresh container of a test Azurite.
func azureBackend(t *testing.T, conn string) *storage.Azure {
	t.Helper()
	be, err := storage.NewAzure(storage.AzureConfig{ConnectionString: conn, Container: "unit", Prefix: "u/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.ContainerClient().Create(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return be
}

// azureBlobNames lists every blob name of the container, including names
// that hold only uncommitted blocks.
func azureBlobNames(t *testing.T, be *storage.Azure) []string {
	t.Helper()
	pager := be.ContainerClient().NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Include: container.ListBlobsInclude{UncommittedBlobs: true}})
	var out []string
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Segment.BlobItems {
			out = append(out, *it.Name)
		}
	}
	return out
}

// TestMultipartNativeAzure: over an Azure backend, multipart uploads go
// into the backend's own uploads (blocks of a staging blob per upload, no
// part objects), with the client-visible semantics of the local backend,
// and two uploads of one key with a PUT of it in between all succeed, the
// last completion winning.
func TestMultipartNativeAzure(t *testing.T) {
	be := azureBackend(t, testservers.StartAzurite(t))
	f := newFixture(t, fixtureOpts{backendFor: func(string) storage.Backend { return be }})
	testSDKMultipart(t, f)
	for _, n := range azureBlobNames(t, be) {
		if strings.Contains(n, ".fb-uploads/") || (strings.Contains(n, mpuDir) && !strings.HasSuffix(n, "/meta")) {
			t.Errorf("backend still holds %q after the uploads ended", n)
		}
	}

	ctx := context.Background()
	c := f.sdk(keyW1)
	b, k := aws.String("res-1"), aws.String("same")
	start := func() *string {
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
		if err != nil {
			t.Fatal(err)
		}
		return cr.UploadId
	}
	part := func(id *string, num int32, data []byte) s3types.CompletedPart {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: id, PartNumber: aws.Int32(num), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("part %d: %v", num, err)
		}
		return s3types.CompletedPart{PartNumber: aws.Int32(num), ETag: up.ETag}
	}
	complete := func(id *string, parts ...s3types.CompletedPart) {
		if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: id,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			t.Fatal(err)
		}
	}
	idA, idB := start(), start()
	a1, a2 := randBytes(5<<20, 41), randBytes(999, 42)
	b1, b2 := randBytes(5<<20, 43), randBytes(777, 44)
	pa1, pb1 := part(idA, 1, a1), part(idB, 1, b1)
	putBytes(t, c, "res-1", "same", []byte("a plain PUT in between"))
	pb2 := part(idB, 2, b2)
	complete(idB, pb1, pb2)
	if got := getAll(t, c, "res-1", "same"); !bytes.Equal(got, append(append([]byte{}, b1...), b2...)) {
		t.Fatalf("after the first completion: %d bytes", len(got))
	}
	pa2 := part(idA, 2, a2)
	complete(idA, pa1, pa2)
	if got := getAll(t, c, "res-1", "same"); !bytes.Equal(got, append(append([]byte{}, a1...), a2...)) {
		t.Fatalf("after the last completion: %d bytes, want upload A's", len(got))
	}
}

// TestNativeAzurePendingPartsSurviveRestart is
// TestNativePendingPartsSurviveRestart over Azure; the aborted upload's
// staged blocks are gone with it.
func TestNativeAzurePendingPartsSurviveRestart(t *testing.T) {
	be := azureBackend(t, testservers.StartAzurite(t))
	testNativePendingPartsSurviveRestart(t, be)
	for _, n := range azureBlobNames(t, be) {
		if strings.Contains(n, ".fb-uploads/") {
			t.Errorf("staged data left after completion and abort: %q", n)
		}
	}
}
