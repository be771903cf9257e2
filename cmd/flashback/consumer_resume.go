package main

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/flashback-network/flashback/client"
)

// Resumable multipart upload of a local file (see consumer_resume_state.go
// for what is kept). On a resume the bridge's ListParts is the truth: a
// part counts as done only if the bridge has it with the recorded ETag and
// size and the local bytes still hash the same; a part the bridge has that
// the state missed (the kill came between the answer and the write) is
// kept if its ETag is the MD5 of the local bytes. Everything else is sent.

// resumeStats is what a multipart upload did, for `-o json` and the tests.
type resumeStats struct {
	Parts   int  `json:"parts"`
	Sent    int  `json:"parts_sent"`
	Resumed int  `json:"parts_resumed"`
	Resume  bool `json:"resumed"`
}

// resumableUpload uploads path to key in parts of opts.partSize, resuming
// a previous attempt recorded in the home. On failure the upload and its
// state are kept, so the same command resumes it.
func (g *globals) resumableUpload(ctx context.Context, b *client.Bucket, key, path string, opts *xferOpts, prog func(int64)) (*client.Object, *resumeStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	size, partSize := fi.Size(), partSizeFor(fi.Size(), opts.partSize)
	st, done, err := g.resumeState(ctx, b, key, abs, f, fi, partSize)
	if err != nil {
		return nil, nil, err
	}
	stats := &resumeStats{Parts: int(partCount(size, partSize)), Resumed: len(done), Resume: len(done) > 0}
	for _, p := range done {
		prog(p.Size)
	}
	if err := sendMissingParts(ctx, b, st, f, done, opts, prog, stats); err != nil {
		if ctx.Err() != nil {
			return nil, stats, fmt.Errorf("interrupted with %d of %d parts at the bridge: run the same command again to resume", len(st.Parts), stats.Parts)
		}
		return nil, stats, fmt.Errorf("%w (%d of %d parts are at the bridge: run the same command again to resume)", err, len(st.Parts), stats.Parts)
	}
	o, err := completeUpload(ctx, b, st)
	if err != nil {
		return nil, stats, err
	}
	st.remove()
	return o, stats, nil
}

// resumeState returns the state to continue (a new upload if there is
// none or it is stale) and the parts verified done.
func (g *globals) resumeState(ctx context.Context, b *client.Bucket, key, abs string, f *os.File, fi os.FileInfo, partSize int64) (*uploadState, map[int32]statePart, error) {
	path := g.uploadStatePath(b.Name, key, abs)
	st, err := loadUploadState(path)
	if err != nil {
		return nil, nil, err
	}
	if st != nil && (st.Size != fi.Size() || st.MTimeNanos != fi.ModTime().UnixNano() || st.PartSize != partSize) {
		g.note("%s changed since its interrupted upload: starting over", abs)
		abortUpload(ctx, b, st)
		st.remove()
		st = nil
	}
	if st != nil {
		done, err := verifyDoneParts(ctx, b, st, f)
		if err == nil {
			if len(done) > 0 {
				g.note("resuming the upload of %s: %d of %d parts are at the bridge", abs, len(done), partCount(st.Size, st.PartSize))
			}
			return st, done, nil
		}
		if client.S3Code(err) != "NoSuchUpload" {
			return nil, nil, s3Explain(err, b, key)
		}
		g.note("the interrupted upload of %s is gone from the bridge: starting over", abs)
		st.remove()
	}
	cin := &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(key), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32}
	if ct := contentType(key); ct != "" {
		cin.ContentType = aws.String(ct)
	}
	mp, err := b.S3.CreateMultipartUpload(ctx, cin)
	if err != nil {
		return nil, nil, s3Explain(err, b, key)
	}
	st = &uploadState{Reservation: b.Name, Key: key, File: abs, Size: fi.Size(), MTimeNanos: fi.ModTime().UnixNano(),
		PartSize: partSize, UploadID: aws.ToString(mp.UploadId), Parts: []statePart{}, path: path}
	if err := st.save(); err != nil {
		abortUpload(ctx, b, st)
		return nil, nil, err
	}
	return st, map[int32]statePart{}, nil
}

// verifyDoneParts lists the upload's parts at the bridge and keeps those
// whose local bytes match; st.Parts becomes exactly those.
func verifyDoneParts(ctx context.Context, b *client.Bucket, st *uploadState, f *os.File) (map[int32]statePart, error) {
	server := map[int32]s3types.Part{}
	p := s3.NewListPartsPaginator(b.S3, &s3.ListPartsInput{Bucket: aws.String(b.Name), Key: aws.String(st.Key), UploadId: aws.String(st.UploadID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, sp := range page.Parts {
			server[aws.ToInt32(sp.PartNumber)] = sp
		}
	}
	recorded := map[int32]statePart{}
	for _, sp := range st.Parts {
		recorded[sp.N] = sp
	}
	done := map[int32]statePart{}
	n := partCount(st.Size, st.PartSize)
	for num, sp := range server {
		if num < 1 || num > n || aws.ToInt64(sp.Size) != partLen(st, num) {
			continue
		}
		local, err := hashPart(f, st, num)
		if err != nil {
			return nil, err
		}
		etag := strings.Trim(aws.ToString(sp.ETag), `"`)
		rec, ok := recorded[num]
		if ok && rec.ETag == etag && rec.SHA256 == local.SHA256 || !ok && local.md5 == etag {
			local.ETag = etag
			done[num] = local.statePart
		}
	}
	st.Parts = st.Parts[:0]
	for _, d := range done {
		st.Parts = append(st.Parts, d)
	}
	return done, st.save()
}

func partLen(st *uploadState, n int32) int64 {
	off := int64(n-1) * st.PartSize
	return min(st.PartSize, st.Size-off)
}

type hashedPart struct {
	statePart
	md5 string
}

// hashPart reads part n of the local file and hashes it.
func hashPart(f *os.File, st *uploadState, n int32) (hashedPart, error) {
	l := partLen(st, n)
	sh, mh, ch := sha256.New(), md5.New(), crc32.NewIEEE()
	if _, err := io.Copy(io.MultiWriter(sh, mh, ch), io.NewSectionReader(f, int64(n-1)*st.PartSize, l)); err != nil {
		return hashedPart{}, err
	}
	return hashedPart{statePart: statePart{N: n, Size: l, SHA256: hex.EncodeToString(sh.Sum(nil)), CRC32: crcB64(ch.Sum32())},
		md5: hex.EncodeToString(mh.Sum(nil))}, nil
}

func crcB64(c uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], c)
	return base64.StdEncoding.EncodeToString(b[:])
}

// sendMissingParts uploads the parts not in done, opts.concurrency at a
// time, recording each in the state as the bridge acknowledges it.
func sendMissingParts(ctx context.Context, b *client.Bucket, st *uploadState, f *os.File, done map[int32]statePart, opts *xferOpts, prog func(int64), stats *resumeStats) error {
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(opts.concurrency)
	var sent int
	for n := int32(1); n <= partCount(st.Size, st.PartSize); n++ {
		if _, ok := done[n]; ok {
			continue
		}
		if ectx.Err() != nil {
			break
		}
		eg.Go(func() error {
			hp, err := hashPart(f, st, n)
			if err != nil {
				return err
			}
			body := opts.limit(io.NewSectionReader(f, int64(n-1)*st.PartSize, hp.Size))
			out, err := b.S3.UploadPart(ectx, &s3.UploadPartInput{Bucket: aws.String(b.Name), Key: aws.String(st.Key), UploadId: aws.String(st.UploadID),
				PartNumber: aws.Int32(n), Body: body, ContentLength: aws.Int64(hp.Size), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32})
			if err != nil {
				return fmt.Errorf("part %d: %w", n, s3Explain(err, b, st.Key))
			}
			hp.ETag = strings.Trim(aws.ToString(out.ETag), `"`)
			if err := st.addPart(hp.statePart); err != nil {
				return err
			}
			prog(hp.Size)
			st.mu.Lock()
			sent++
			st.mu.Unlock()
			return nil
		})
	}
	err := eg.Wait()
	stats.Sent = sent
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// completeUpload completes the upload from the recorded parts.
func completeUpload(ctx context.Context, b *client.Bucket, st *uploadState) (*client.Object, error) {
	if len(st.Parts) != int(partCount(st.Size, st.PartSize)) {
		return nil, fmt.Errorf("%d of %d parts done", len(st.Parts), partCount(st.Size, st.PartSize))
	}
	sort.Slice(st.Parts, func(i, j int) bool { return st.Parts[i].N < st.Parts[j].N })
	parts := make([]s3types.CompletedPart, 0, len(st.Parts))
	for _, p := range st.Parts {
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(p.N), ETag: aws.String(`"` + p.ETag + `"`), ChecksumCRC32: aws.String(p.CRC32)})
	}
	out, err := b.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(st.Key), UploadId: aws.String(st.UploadID),
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}, MpuObjectSize: aws.Int64(st.Size)})
	if err != nil {
		return nil, fmt.Errorf("complete the upload (its parts are kept; run the same command again): %w", s3Explain(err, b, st.Key))
	}
	o := &client.Object{Key: st.Key, Size: st.Size, ETag: strings.Trim(aws.ToString(out.ETag), `"`), LastModified: time.Now().UTC(), ContentType: contentType(st.Key)}
	o.Receipt, o.ReceiptProblem = client.PutReceiptOf(out.ResultMetadata, b.Name, st.Key, st.Size)
	return o, nil
}

// abortUpload cancels an upload at the bridge, best effort (a stale
// upload's parts would count against the quota).
func abortUpload(ctx context.Context, b *client.Bucket, st *uploadState) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	_, err := b.S3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(st.Key), UploadId: aws.String(st.UploadID)})
	if err != nil && !errors.Is(err, context.Canceled) && client.S3Code(err) != "NoSuchUpload" {
		fmt.Fprintf(os.Stderr, "warning: abort the stale upload %s of %s: %v\n", st.UploadID, fbURL(b.Name, st.Key), err)
	}
}
