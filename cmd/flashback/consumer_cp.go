package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/flashback-network/flashback/contract/accesskey"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

func cpCmd(g *globals) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy a file to or from a reservation: one side is fb://RESERVATION/KEY, the other a local path or - (stdin/stdout)",
		Long: "Copy one file between the local disk and a reservation's bucket.\n" +
			"  flashback cp notes.txt fb://res-1/docs/notes.txt   upload (a DST ending in / gets SRC's base name)\n" +
			"  flashback cp fb://res-1/docs/notes.txt .           download (into a directory: the key's base name)\n" +
			"  tar c dir | flashback cp - fb://res-1/dir.tar       from stdin; DST - writes to stdout\n" +
			"Access keys come from HOME/s3keys.json; with --from, a missing key is created on chain\n" +
			"(read for downloads, write for uploads) and stored.",
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
			ctx, cancel := signalContext()
			defer cancel()
			switch {
			case sfb && dfb:
				return fmt.Errorf("copy between two fb:// URLs is not supported: download to a local file, then upload it")
			case !sfb && !dfb:
				return fmt.Errorf("one of SRC and DST must be an fb://RESERVATION/KEY URL")
			case dfb:
				return cpUp(ctx, g, src, dres, dkey, from)
			default:
				return cpDown(ctx, g, sres, skey, dst, from)
			}
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the reservation's consumer key, to create an access key when none is stored")
	return cmd
}

func cpUp(ctx context.Context, g *globals, src, res, key, from string) error {
	if src != "-" {
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return fmt.Errorf("%s is a directory: cp copies files", src)
		}
	}
	if key == "" || strings.HasSuffix(key, "/") {
		if src == "-" {
			return fmt.Errorf("uploading stdin needs a key: fb://%s/NAME", res)
		}
		key += filepath.Base(src)
	}
	b, err := g.openBucket(ctx, res, accesskey.PermWrite, from)
	if err != nil {
		return err
	}
	o, rcpt, err := g.upload(ctx, b, key, src)
	if err != nil {
		return err
	}
	t := transferOut{URL: fbURL(res, key), File: src, Bytes: o.Size, ETag: o.ETag, Action: "upload", Receipt: rcpt}
	return g.print(t, func(w io.Writer) {
		fmt.Fprintf(w, "%s → %s  (%s)\n", srcName(src), t.URL, bytesHuman(uint64(t.Bytes)))
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
