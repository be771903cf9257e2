package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// Multipart uploads are mirrored part by part: the gateway's upload has an
// upload on each writing member (created with SHA-256 part checksums, so
// every part is verified and the completed object carries a COMPOSITE
// SHA-256), each part is streamed to all of them at once like a PUT, and
// completion completes them all under a write intent. The mapping (gateway
// upload id → member upload ids, and which member holds which part) is a
// JSON file per upload in StateDir/uploads, so uploads survive a restart;
// aborted uploads, and uploads older than MaxUploadAge, are aborted on every
// member at startup, so an interrupted upload leaves no parts behind.

type mpu struct {
	ID      string                       `json:"id"`
	Repo    string                       `json:"repo"`
	Key     string                       `json:"key"` // the key on the members
	Created time.Time                    `json:"created"`
	Quorum  int                          `json:"quorum"`
	Members map[string]string            `json:"members"`          // member id → its upload id
	Parts   map[int32]map[string]mpuPart `json:"parts"`            // part → member → what it stored
	Missed  []string                     `json:"missed,omitempty"` // writing members without an upload (queued for repair on completion)
	Aborted bool                         `json:"aborted,omitempty"`
	// Encrypted uploads keep each part's plaintext size and header (for
	// the part index written at completion; encindex.go).
	Encrypted bool                 `json:"encrypted,omitempty"`
	Enc       map[int32]encPartRec `json:"enc,omitempty"`
}

type mpuPart struct {
	ETag   string `json:"etag"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// uploads stores mpu records; one lock per upload orders its updates.
type uploads struct {
	dir   string
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (u *uploads) lock(id string) func() {
	u.mu.Lock()
	if u.locks == nil {
		u.locks = map[string]*sync.Mutex{}
	}
	l := u.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		u.locks[id] = l
	}
	u.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (u *uploads) load(id string) (mpu, error) {
	if !validUploadID(id) {
		return mpu{}, s3err.GetAPIError(s3err.ErrNoSuchUpload)
	}
	data, err := os.ReadFile(filepath.Join(u.dir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return mpu{}, s3err.GetAPIError(s3err.ErrNoSuchUpload)
	}
	if err != nil {
		return mpu{}, err
	}
	var m mpu
	if err := json.Unmarshal(data, &m); err != nil {
		return mpu{}, fmt.Errorf("gateway: upload %s: %w", id, err)
	}
	return m, nil
}

func (u *uploads) save(m mpu) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(u.dir, m.ID+".json"), data)
}

func (u *uploads) remove(id string) error {
	os.RemoveAll(u.tails(id))
	err := os.Remove(filepath.Join(u.dir, id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (b *backend) CreateMultipartUpload(ctx context.Context, in s3response.CreateMultipartUploadInput) (s3response.InitiateMultipartUploadResult, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	t, err := b.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return s3response.InitiateMultipartUploadResult{}, err
	}
	if t.repo.Encrypted {
		if _, err := b.g.masterKey(ctx, t.repo); err != nil {
			return s3response.InitiateMultipartUploadResult{}, err
		}
	}
	writers := writersOf(t)
	q := t.repo.quorum(len(writers))
	id := randHex(16)
	meta := map[string]string{}
	for k, v := range in.Metadata {
		meta[k] = v
	}
	meta[writeIDMeta] = id
	ups := make([]string, len(writers))
	errs := make([]error, len(writers))
	var wg sync.WaitGroup
	for i, m := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := b.g.clients.get(m).s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String(m.ID), Key: aws.String(t.key), Metadata: meta,
				ContentType: in.ContentType, CacheControl: in.CacheControl, ContentDisposition: in.ContentDisposition,
				ContentLanguage: in.ContentLanguage, Tagging: in.Tagging,
				ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumType: types.ChecksumTypeComposite,
			})
			if err == nil {
				ups[i] = deref(out.UploadId)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	rec := mpu{ID: id, Repo: t.repo.Name, Key: t.key, Created: time.Now().UTC(), Quorum: q, Members: map[string]string{}, Parts: map[int32]map[string]mpuPart{},
		Encrypted: t.repo.Encrypted}
	var missed []streamResult
	for i, m := range writers {
		if errs[i] == nil {
			rec.Members[m.ID] = ups[i]
		} else {
			missed = append(missed, streamResult{member: m.ID, err: errs[i]})
			rec.Missed = append(rec.Missed, m.ID)
		}
	}
	if len(rec.Members) < q {
		b.g.abortMembers(ctx, t.repo, rec)
		return s3response.InitiateMultipartUploadResult{}, clientWriteError(errNoQuorum, missed)
	}
	if err := b.g.uploads.save(rec); err != nil {
		b.g.abortMembers(ctx, t.repo, rec)
		return s3response.InitiateMultipartUploadResult{}, unavailable(err.Error())
	}
	return s3response.InitiateMultipartUploadResult{Bucket: deref(in.Bucket), Key: deref(in.Key), UploadId: id}, nil
}

// upload loads an upload of the request's bucket and key.
func (b *backend) upload(ctx context.Context, bucket, key, id *string) (target, mpu, error) {
	t, err := b.object(ctx, bucket, key)
	if err != nil {
		return target{}, mpu{}, err
	}
	rec, err := b.g.uploads.load(deref(id))
	if err != nil {
		return target{}, mpu{}, err
	}
	if rec.Repo != t.repo.Name || rec.Key != t.key || rec.Aborted {
		return target{}, mpu{}, s3err.GetAPIError(s3err.ErrNoSuchUpload)
	}
	return t, rec, nil
}

// uploadMembers are the upload's members still in the repository.
func uploadMembers(r Repo, rec mpu) []Member {
	var ms []Member
	for id := range rec.Members {
		if m, ok := r.member(id); ok {
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}

func (b *backend) UploadPart(ctx context.Context, in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	t, rec, err := b.upload(ctx, in.Bucket, in.Key, in.UploadId)
	if err != nil {
		return nil, err
	}
	n := deref(in.PartNumber)
	if n < 1 || n > 10000 {
		return nil, s3err.GetAPIError(s3err.ErrInvalidPartNumberRange)
	}
	if in.ContentLength == nil || *in.ContentLength < 0 {
		return nil, s3err.GetAPIError(s3err.ErrMissingContentLength)
	}
	w := fanWrite{
		members: uploadMembers(t.repo, rec), quorum: rec.Quorum, key: t.key, body: in.Body, size: *in.ContentLength,
		query: func(m Member) url.Values {
			return url.Values{"partNumber": {strconv.Itoa(int(n))}, "uploadId": {rec.Members[m.ID]}}
		},
	}
	if w.body == nil {
		w.body = http.NoBody
	}
	var sealed *sealedPart
	if rec.Encrypted {
		if sealed, err = b.g.sealPart(ctx, t, rec, n, &w); err != nil {
			return nil, err
		}
		defer sealed.cleanup()
	}
	res, err := b.g.stream(ctx, w)
	if err != nil {
		return nil, err
	}
	unlock := b.g.uploads.lock(rec.ID)
	defer unlock()
	cur, err := b.g.uploads.load(rec.ID)
	if err != nil {
		return nil, err
	}
	if sealed != nil {
		if err := sealed.keep(&cur); err != nil {
			return nil, unavailable(err.Error())
		}
	}
	got := map[string]mpuPart{}
	for _, r := range res.acked {
		got[r.member] = mpuPart{ETag: r.etag, SHA256: r.sha256, Size: *in.ContentLength}
	}
	cur.Parts[n] = got
	if err := b.g.uploads.save(cur); err != nil {
		return nil, unavailable(err.Error())
	}
	out := &s3.UploadPartOutput{ETag: aws.String(res.acked[0].etag), ChecksumSHA256: aws.String(res.sum)}
	if rec.Encrypted {
		out.ChecksumSHA256 = nil // the ciphertext's
	}
	return out, nil
}

func (b *backend) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput) error {
	ctx, cancel := detach(ctx)
	defer cancel()
	t, rec, err := b.upload(ctx, in.Bucket, in.Key, in.UploadId)
	if err != nil {
		return err
	}
	unlock := b.g.uploads.lock(rec.ID)
	defer unlock()
	if !b.g.abortMembers(ctx, t.repo, rec) {
		rec.Aborted = true // retried at the next start
		if err := b.g.uploads.save(rec); err != nil {
			return unavailable(err.Error())
		}
		return nil
	}
	return b.g.uploads.remove(rec.ID)
}

// abortMembers aborts the upload on its members; it reports whether all
// of them answered (an upload already gone counts as aborted).
func (g *Gateway) abortMembers(ctx context.Context, r Repo, rec mpu) bool {
	ok := true
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range uploadMembers(r, rec) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := g.clients.get(m).s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(m.ID), Key: aws.String(rec.Key), UploadId: aws.String(rec.Members[m.ID]),
			})
			if err != nil && errCode(err) != "NoSuchUpload" {
				mu.Lock()
				ok = false
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok
}

// recoverUploads aborts, on every member, uploads marked aborted and
// uploads older than MaxUploadAge.
func (g *Gateway) recoverUploads(ctx context.Context) error {
	ents, err := os.ReadDir(g.uploads.dir)
	if err != nil {
		return fmt.Errorf("gateway: reading uploads: %w", err)
	}
	for _, e := range ents {
		id := strings.TrimSuffix(e.Name(), ".json")
		rec, err := g.uploads.load(id)
		if err != nil {
			continue
		}
		if !rec.Aborted && time.Since(rec.Created) < g.cfg.MaxUploadAge {
			continue
		}
		r, err := g.dir.Repo(ctx, rec.Repo)
		if err != nil || g.abortMembers(ctx, r, rec) {
			g.uploads.remove(id)
		}
	}
	return nil
}
