package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/repair"
)

// memberCopy is repair.Copy over one member's bridge, through the
// gateway's member client. It moves the stored bytes as they are (the
// ciphertext of an encrypted repository: repair never needs its keys) and
// writes with the same streamed upload as a client PUT, whose trailing
// SHA-256 the bridge verifies before it commits: a failed copy leaves no
// object behind.
type memberCopy struct {
	g *Gateway
	m Member
	// peers are the repository's other members: a repaired copy takes its
	// headers (content type, user metadata) from one holding the version.
	peers []Member
}

var _ repair.Copy = (*memberCopy)(nil)

func (c *memberCopy) ID() string { return c.m.ID }

func (c *memberCopy) client() *memberClient { return c.g.clients.get(c.m) }

// List lists the member's bucket; the bridge's listing carries no
// checksum, so the repairer asks Head for it.
func (c *memberCopy) List(ctx context.Context, after string, max int) ([]repair.Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(c.m.ID), MaxKeys: aws.Int32(int32(max))}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	out, err := c.client().s3.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("member %s: list: %w", c.m.ID, err)
	}
	objs := make([]repair.Object, 0, len(out.Contents))
	for _, o := range out.Contents {
		objs = append(objs, repair.Object{Key: deref(o.Key), Size: deref(o.Size)})
	}
	return objs, nil
}

func (c *memberCopy) head(ctx context.Context, m Member, key string) (*s3.HeadObjectOutput, error) {
	out, err := c.g.clients.get(m).s3.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(m.ID), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: %s on %s", repair.ErrNotFound, key, m.ID)
		}
		return nil, fmt.Errorf("member %s: head %q: %w", m.ID, key, err)
	}
	return out, nil
}

// Head reports the stored size and SHA-256. A multipart object's stored
// checksum is a checksum of its parts' checksums, which no whole-object
// stream can be checked against: for those the bytes are read and hashed
// once per version (partHashes).
func (c *memberCopy) Head(ctx context.Context, key string) (repair.Object, error) {
	out, err := c.head(ctx, c.m, key)
	if err != nil {
		return repair.Object{}, err
	}
	o := repair.Object{Key: key, Size: deref(out.ContentLength)}
	stored := deref(out.ChecksumSHA256)
	if stored != "" && !strings.Contains(stored, "-") && out.ChecksumType != types.ChecksumTypeComposite {
		if sum, derr := base64.StdEncoding.DecodeString(stored); derr == nil && len(sum) == 32 {
			o.SHA256 = sum
			return o, nil
		}
	}
	hk := partHashKey{member: c.m.ID, key: key, etag: deref(out.ETag), size: o.Size}
	if sum := c.g.partHashes.get(hk); sum != nil {
		o.SHA256 = sum
		return o, nil
	}
	sum, n, err := hashMember(ctx, c, key)
	if err != nil {
		return repair.Object{}, err
	}
	o.SHA256, o.Size = sum, n
	if n == hk.size && hk.etag != "" {
		c.g.partHashes.put(hk, sum)
	}
	return o, nil
}

// Open reads the stored bytes from off.
func (c *memberCopy) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(c.m.ID), Key: aws.String(key)}
	if off > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	out, err := c.client().s3.GetObject(ctx, in)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: %s on %s", repair.ErrNotFound, key, c.m.ID)
		}
		return nil, fmt.Errorf("member %s: get %q: %w", c.m.ID, key, err)
	}
	return out.Body, nil
}

// Put streams size bytes to the member with their SHA-256 as trailing
// checksum (the bridge refuses to commit other bytes), then checks that
// the checksum it stored is the one wanted. A refusal for lack of room
// matches repair.ErrNoRoom.
func (c *memberCopy) Put(ctx context.Context, key string, r io.Reader, size int64, sum []byte) error {
	body := &sumReader{r: r, left: size, h: sha256.New(), want: sum}
	w := fanWrite{members: []Member{c.m}, quorum: 1, key: key, hdr: c.headersFor(ctx, key, sum), body: body, size: size}
	res, err := c.g.stream(ctx, w)
	if err != nil {
		for _, mr := range res.missed {
			if mr.err != nil && isNoRoomCode(errCode(mr.err)) {
				return fmt.Errorf("%w: %v", repair.ErrNoRoom, mr.err)
			}
			if mr.err != nil {
				err = mr.err // the member's own answer (it names the member)
			}
		}
		return fmt.Errorf("put %q: %w", key, err)
	}
	if want := base64.StdEncoding.EncodeToString(sum); res.sum != want {
		return fmt.Errorf("member %s: put %q stored sha256 %s, want %s", c.m.ID, key, res.sum, want)
	}
	return nil
}

// sumReader hands over size bytes of r, failing instead of handing over
// the last ones if their sha256 is not want: the upload then fails and
// the bridge commits nothing (the trailing checksum is computed by the
// gateway over the bytes it sent, so it cannot catch a wrong source).
type sumReader struct {
	r    io.Reader
	left int64
	h    hash.Hash
	want []byte
}

func (s *sumReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.left -= int64(n)
	if s.left == 0 {
		if got := s.h.Sum(nil); !bytes.Equal(got, s.want) {
			return 0, fmt.Errorf("repair source bytes have sha256 %x, want %x", got, s.want)
		}
		return n, nil
	}
	return n, err
}

func isNoRoomCode(code string) bool {
	switch code {
	case "QuotaExceeded", "EntityTooLarge", "InsufficientStorage", "XMinioStorageFull", "StorageFull":
		return true
	}
	return false
}

// headersFor returns the object headers of a peer's copy of the same
// version (so a repaired copy keeps its content type, user metadata and
// write id); none if no peer answers.
func (c *memberCopy) headersFor(ctx context.Context, key string, sum []byte) http.Header {
	want := base64.StdEncoding.EncodeToString(sum)
	for _, p := range c.peers {
		out, err := c.head(ctx, p, key)
		if err != nil || deref(out.ChecksumSHA256) != want {
			continue
		}
		h := http.Header{}
		set := func(k string, v *string) {
			if v != nil && *v != "" {
				h.Set(k, *v)
			}
		}
		set("Content-Type", out.ContentType)
		set("Cache-Control", out.CacheControl)
		set("Content-Disposition", out.ContentDisposition)
		set("Content-Language", out.ContentLanguage)
		for k, v := range out.Metadata {
			h.Set("X-Amz-Meta-"+k, v)
		}
		return h
	}
	return http.Header{}
}

// hashMember reads c's copy of key whole and hashes it.
func hashMember(ctx context.Context, c *memberCopy, key string) ([]byte, int64, error) {
	rc, err := c.Open(ctx, key, 0)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return nil, n, fmt.Errorf("member %s: read %q: %w", c.m.ID, key, err)
	}
	return h.Sum(nil), n, nil
}

// errNotMirror: repair applies to mirror repositories only (a normal
// repository keeps one copy of each object: there is nothing to copy from).
var errNotMirror = errors.New("gateway: repair runs on mirror repositories only")

// Delete removes key from the member (a missing key is no error).
func (c *memberCopy) Delete(ctx context.Context, key string) error {
	_, err := c.client().s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.m.ID), Key: aws.String(key)})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("member %s: delete %q: %w", c.m.ID, key, err)
	}
	return nil
}

// NewRepairer returns a repairer over the members of mirror repository
// name of a configuration file, for a repair pass outside a running
// gateway (`flashback repo repair`): the same engine and member clients
// as the gateway's loop, with the file's repair settings. It neither
// reads nor changes the gateway's repair queue (the gateway owns it).
// Call done after the last pass: it closes the idle member connections.
func NewRepairer(fc FileConfig, name string) (r *repair.Repairer, done func(), err error) {
	var repo Repo
	found := false
	d := fc.Directory()
	if r, err := d.Repo(context.Background(), name); err == nil {
		repo, found = r, true
	}
	if !found {
		return nil, nil, fmt.Errorf("gateway config: no repository %q", name)
	}
	if repo.Mode != ModeMirror {
		return nil, nil, fmt.Errorf("repository %s is in %s mode: %w", name, repo.Mode, errNotMirror)
	}
	cfg := fc.GatewayConfig()
	// Repair writes get receipts like any write: they go to the gateway's
	// journal when the file names its state directory.
	var journal *receipt.Journal
	if fc.StateDir != "" {
		journal = &receipt.Journal{Dir: filepath.Join(fc.StateDir, "receipts")}
	}
	g := &Gateway{cfg: cfg, dir: d, clients: newClients(journal, log.Printf), health: newHealth()}
	if g.cfg.StallTimeout <= 0 {
		g.cfg.StallTimeout = 15 * time.Second
	}
	rc := fc.RepairConfig()
	if rc == nil {
		rc = &RepairConfig{}
	}
	r, err = g.newRepairer(repo, repairEngineConfig(*rc, repo))
	if err != nil {
		return nil, nil, err
	}
	return r, g.clients.hc.CloseIdleConnections, nil
}
