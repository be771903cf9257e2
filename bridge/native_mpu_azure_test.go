package bridge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
)

// startTestAzurite runs the Azurite blob service that
// scripts/test-servers.sh installs and returns a connection string (skips,
// or fails with FLASHBACK_REQUIRE_SERVERS=1, when it is not installed).
func startTestAzurite(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "scripts", "test-servers.versions"))
	if err != nil {
		t.Fatal(err)
	}
	version := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "AZURITE_VERSION="); ok {
			version = v
		}
	}
	f.Close()
	cache := os.Getenv("FLASHBACK_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "flashback")
	}
	bin := filepath.Join(cache, "azurite-"+version, "node_modules", ".bin", "azurite-blob")
	_, statErr := os.Stat(bin)
	_, nodeErr := exec.LookPath("node")
	if statErr != nil || nodeErr != nil {
		msg := fmt.Sprintf("Azurite (%s) or node not installed: run scripts/test-servers.sh install", bin)
		if os.Getenv("FLASHBACK_REQUIRE_SERVERS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	const account = "devstoreaccount1"
	base := fmt.Sprintf("http://127.0.0.1:%d/%s", port, account)
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", t.TempDir(),
		"--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	for deadline := time.Now().Add(60 * time.Second); ; {
		// Any HTTP answer (an unauthenticated request gets an error) means up.
		if resp, err := http.Get(base + "?comp=list"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("Azurite exited: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("Azurite not ready after 60s")
		}
	}
	// Azurite's well-known development account.
	return "DefaultEndpointsProtocol=http;AccountName=" + account +
		";AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=" + base + ";"
}

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
	be := azureBackend(t, startTestAzurite(t))
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
	be := azureBackend(t, startTestAzurite(t))
	testNativePendingPartsSurviveRestart(t, be)
	for _, n := range azureBlobNames(t, be) {
		if strings.Contains(n, ".fb-uploads/") {
			t.Errorf("staged data left after completion and abort: %q", n)
		}
	}
}
