package main

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

// `flashback sync SRC DST`: make DST hold what SRC holds, transferring
// only what differs, compared by size and then by content: the MD5 of the
// local file against the object's ETag (for a multipart object, the MD5 of
// the parts' MD5s, at the part size that gives its part count).

func syncCmd(g *globals) *cobra.Command {
	var from string
	var del, dryRun bool
	var opts xferOpts
	cmd := &cobra.Command{
		Use:   "sync SRC DST",
		Short: "Make a prefix match a local directory, or a directory match a prefix, sending only what differs",
		Long: "One side is a local directory, the other fb://RESERVATION/PREFIX/.\n" +
			"  flashback sync ./photos fb://res-1/photos/          upload new and changed files\n" +
			"  flashback sync fb://res-1/photos/ ./photos --delete  download, and delete local files not in the bucket\n" +
			"Files are compared by size, then by MD5 against the ETag. --delete removes from DST what SRC\n" +
			"lacks; --dry-run prints what would be done. Large files go in resumable parts (see cp).",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := opts.check(); err != nil {
				return err
			}
			sres, sprefix, sfb, err := parseFB(args[0])
			if err != nil {
				return err
			}
			dres, dprefix, dfb, err := parseFB(args[1])
			if err != nil {
				return err
			}
			if sfb == dfb {
				return fmt.Errorf("sync needs a local directory and an fb://RESERVATION/PREFIX/, one on each side")
			}
			ctx, cancel := signalContext()
			defer cancel()
			if dfb {
				if st, err := os.Stat(args[0]); err != nil || !st.IsDir() {
					return fmt.Errorf("%s: not a directory", args[0])
				}
				ts := treeSpec{local: args[0], res: dres, prefix: dirPrefix(dprefix), up: true, delete: del, dryRun: dryRun}
				return runTree(ctx, g, ts, &opts, from, syncUpPlan(ts, &opts))
			}
			ts := treeSpec{local: args[1], res: sres, prefix: dirPrefix(sprefix), dryRun: dryRun}
			return runTree(ctx, g, ts, &opts, from, g.syncDownPlan(ts, del, &opts))
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the reservation's consumer key, to create an access key when none is stored")
	cmd.Flags().BoolVar(&del, "delete", false, "delete from DST what is not in SRC")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be transferred or deleted, do nothing")
	addXferFlags(cmd, &opts)
	return cmd
}

func syncUpPlan(ts treeSpec, opts *xferOpts) planFunc {
	return func(local map[string]localFile, remote map[string]client.Object) ([]xferJob, int, error) {
		var send []string
		same := 0
		for _, rel := range sortedKeys(local) {
			o, ok := remote[rel]
			eq, err := ok && o.Size == local[rel].size, error(nil)
			if eq {
				eq, err = sameContent(local[rel].path, o, opts)
			}
			if err != nil {
				return nil, 0, err
			}
			if eq {
				same++
			} else {
				send = append(send, rel)
			}
		}
		jobs := uploadJobs(local, ts.prefix, send, remote)
		if ts.delete {
			for _, rel := range sortedKeys(remote) {
				if _, ok := local[rel]; !ok {
					jobs = append(jobs, xferJob{op: opDeleteRemote, key: ts.prefix + rel})
				}
			}
		}
		return jobs, same, nil
	}
}

func (g *globals) syncDownPlan(ts treeSpec, del bool, opts *xferOpts) planFunc {
	return func(local map[string]localFile, remote map[string]client.Object) ([]xferJob, int, error) {
		var get []string
		same := 0
		for _, rel := range sortedKeys(remote) {
			o := remote[rel]
			f, ok := local[rel]
			eq, err := ok && f.size == o.Size, error(nil)
			if eq {
				eq, err = sameContent(f.path, o, opts)
			}
			if err != nil {
				return nil, 0, err
			}
			if eq {
				same++
			} else {
				get = append(get, rel)
			}
		}
		jobs := g.downloadJobs(ts.local, ts.prefix, get, remote)
		if del {
			for _, rel := range sortedKeys(local) {
				if _, ok := remote[rel]; !ok {
					jobs = append(jobs, xferJob{op: opDeleteLocal, local: local[rel].path, key: ts.prefix + rel})
				}
			}
		}
		return jobs, same, nil
	}
}

// sameContent says whether the local file (of the object's size) has the
// object's content, as far as its ETag tells: an ETag that is neither an
// MD5 nor a multipart ETag this can recompute counts as different, so the
// file is sent again rather than wrongly skipped.
func sameContent(path string, o client.Object, opts *xferOpts) (bool, error) {
	etag := strings.Trim(o.ETag, `"`)
	md5hex, parts, multi := strings.Cut(etag, "-")
	if !multi {
		sum, err := fileMD5(path, 0, -1)
		return err == nil && sum == etag, err
	}
	n, err := strconv.Atoi(parts)
	if err != nil || n < 1 {
		return false, nil
	}
	for _, ps := range candidatePartSizes(o.Size, n, opts) {
		got, err := multipartETag(path, o.Size, ps)
		if err != nil {
			return false, err
		}
		if got == md5hex {
			return true, nil
		}
	}
	return false, nil
}

// candidatePartSizes are the part sizes that split size into n parts: ours,
// the SDK default, and the smallest whole MiB that does.
func candidatePartSizes(size int64, n int, opts *xferOpts) []int64 {
	var out []int64
	mib := int64(1 << 20)
	even := (size + int64(n) - 1) / int64(n)
	for _, ps := range []int64{partSizeFor(size, opts.partSize), client.PartSize, (even + mib - 1) / mib * mib, even} {
		if ps > 0 && partCount(size, ps) == int32(n) {
			out = append(out, ps)
		}
	}
	return out
}

// multipartETag is S3's multipart ETag body: the MD5 of the parts' MD5s.
func multipartETag(path string, size, partSize int64) (string, error) {
	h := md5.New()
	for off := int64(0); off < size; off += partSize {
		sum, err := fileMD5(path, off, min(partSize, size-off))
		if err != nil {
			return "", err
		}
		b, _ := hex.DecodeString(sum)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fileMD5 is the MD5 of n bytes at off of a file (n < 0: to the end).
func fileMD5(path string, off, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var r io.Reader = f
	if n >= 0 {
		r = io.NewSectionReader(f, off, n)
	}
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
