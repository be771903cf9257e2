package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/flashback-network/flashback/contract/accesskey"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

func cpCmd(g *globals) *cobra.Command {
	var from string
	var recursive bool
	var opts xferOpts
	cmd := &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy a file to or from a reservation: one side is fb://RESERVATION/KEY, the other a local path or - (stdin/stdout)",
		Long: "Copy one file between the local disk and a reservation's bucket.\n" +
			"  flashback cp notes.txt fb://res-1/docs/notes.txt   upload (a DST ending in / gets SRC's base name)\n" +
			"  flashback cp fb://res-1/docs/notes.txt .           download (into a directory: the key's base name)\n" +
			"  tar c dir | flashback cp - fb://res-1/dir.tar       from stdin; DST - writes to stdout\n" +
			"  flashback cp -r ./site fb://res-1/site/              a directory's contents under a prefix (and back)\n" +
			"Access keys come from HOME/s3keys.json; with --from, a missing key is created on chain\n" +
			"(read for downloads, write for uploads) and stored; a usable stored key is always reused.\n" +
			"Uploads are refused before the first byte when the reservation lacks the room. Files above\n" +
			"--multipart-threshold go in parts whose progress is kept in HOME/uploads: after an\n" +
			"interruption, the same command sends only the parts the bridge lacks.",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			src, dst := args[0], args[1]
			sres, skey, sfb, err := parseFB(src)
			if err != nil {
				return err
			}
			dres, dkey, dfb, err := parseFB(dst)
			if err != nil {
				return err
			}
			if err := opts.check(); err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			if recursive {
				return cpRecursive(ctx, g, src, dst, &opts, from)
			}
			switch {
			case sfb && dfb:
				return fmt.Errorf("copy between two fb:// URLs is not supported: download to a local file, then upload it")
			case !sfb && !dfb:
				return fmt.Errorf("one of SRC and DST must be an fb://RESERVATION/KEY URL")
			case dfb:
				return cpUp(ctx, g, src, dres, dkey, from, &opts)
			default:
				return cpDown(ctx, g, sres, skey, dst, from)
			}
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the reservation's consumer key, to create an access key when none is stored")
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "copy a directory's contents to a prefix, or a prefix's objects into a directory")
	addXferFlags(cmd, &opts)
	return cmd
}

func cpUp(ctx context.Context, g *globals, src, res, key, from string, opts *xferOpts) error {
	var size, mtime int64 = -1, 0
	if src != "-" {
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return fmt.Errorf("%s is a directory: copy it with cp -r", src)
		}
		if st.Mode().IsRegular() {
			size, mtime = st.Size(), st.ModTime().UnixNano()
		}
	}
	if key == "" || strings.HasSuffix(key, "/") {
		if src == "-" {
			return fmt.Errorf("uploading stdin needs a key: fb://%s/NAME", res)
		}
		key += filepath.Base(src)
	}
	bi, err := g.openBucketInfo(ctx, res, accesskey.PermWrite, from)
	if err != nil {
		return err
	}
	if size < 0 { // stdin or a pipe: the size is unknown, the bridge enforces the quota
		o, rcpt, err := g.upload(ctx, bi.Bucket, key, src)
		if err != nil {
			return err
		}
		return printUp(g, transferOut{URL: fbURL(res, key), File: src, Bytes: o.Size, ETag: o.ETag, Action: "upload", Receipt: rcpt})
	}
	j := xferJob{op: opUpload, local: src, key: key, size: size, mtime: mtime}
	need := quotaNeed{bytes: size, resuming: map[string]bool{}}
	if abs, err := filepath.Abs(src); err == nil && size > opts.threshold {
		if id := g.pendingUploadOf(res, key, abs, size, mtime); id != "" {
			need.resuming[id] = true
		}
	}
	if err := g.checkQuota(ctx, bi, need); err != nil {
		return err
	}
	bar := newProgress("↑ " + path.Base(key))
	var done atomic.Int64 // parts finish concurrently
	t, err := g.runJob(ctx, bi, j, opts, false, func(n int64) { bar.update(done.Add(n), size) })
	bar.finish(err == nil)
	if err != nil {
		return err
	}
	return printUp(g, t)
}

func printUp(g *globals, t transferOut) error {
	return g.print(t, func(w io.Writer) {
		fmt.Fprintf(w, "%s → %s  (%s)%s\n", srcName(t.File), t.URL, bytesHuman(uint64(t.Bytes)), t.Multipart.note())
	})
}

func srcName(s string) string {
	if s == "-" {
		return "stdin"
	}
	return s
}

func cpDown(ctx context.Context, g *globals, res, key, dst, from string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("%s names no object (list them with `flashback ls %s`)", fbURL(res, key), fbURL(res, key))
	}
	if dst != "-" {
		if st, err := os.Stat(dst); (err == nil && st.IsDir()) || strings.HasSuffix(dst, string(os.PathSeparator)) {
			dst = filepath.Join(dst, path.Base(key))
		}
	}
	b, err := g.openBucket(ctx, res, accesskey.PermRead, from)
	if err != nil {
		return err
	}
	url := fbURL(res, key)
	bar := newProgress("↓ " + path.Base(key))
	var o *client.Object
	if dst == "-" {
		o, err = b.Download(ctx, key, os.Stdout, bar.progress())
	} else {
		o, err = b.DownloadFile(ctx, key, dst, bar.progress())
	}
	bar.finish(err == nil)
	if err != nil {
		return s3Explain(err, b, key)
	}
	t := transferOut{URL: url, File: dst, Bytes: o.Size, ETag: o.ETag, Action: "download"}
	if dst == "-" {
		// stdout carries the data: the summary (-o json only) goes to stderr.
		if g.output == "json" {
			return (&globals{output: "json", out: os.Stderr}).print(t, nil)
		}
		return nil
	}
	return g.print(t, func(w io.Writer) {
		fmt.Fprintf(w, "%s → %s  (%s)\n", url, dst, bytesHuman(uint64(t.Bytes)))
	})
}
