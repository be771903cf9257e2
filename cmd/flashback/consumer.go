package main

import (
	"context"
	"fmt"
	"mime"
	"os"
	"os/signal"
	"path"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

// The consumer CLI: `flashback store` (quote, reserve, key, upload in one
// go), and `cp`, `ls`, `rm` on fb://RESERVATION/key URLs, with the access
// keys kept in HOME/s3keys.json.

// consumerCmds are added to the root command.
func consumerCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{storeCmd(g), cpCmd(g), lsCmd(g), rmCmd(g), receiptsCmd(g), syncCmd(g), credentialsCmd(g), accessKeyLocalCmd(g)}
}

const fbScheme = "fb://"

// fbURL formats a reservation and key as fb://RES/key.
func fbURL(res, key string) string { return fbScheme + res + "/" + key }

// parseFB splits fb://RES/key; ok is false if s is not an fb:// URL.
func parseFB(s string) (res, key string, ok bool, err error) {
	rest, found := strings.CutPrefix(s, fbScheme)
	if !found {
		return "", "", false, nil
	}
	res, key, _ = strings.Cut(rest, "/")
	if res == "" {
		return "", "", true, fmt.Errorf("%q: want fb://RESERVATION/KEY (e.g. fb://res-1/photos/a.jpg)", s)
	}
	return res, key, true, nil
}

// signalContext is cancelled on Ctrl-C or SIGTERM, so that a multipart
// upload is aborted rather than left behind.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// transferOut is what cp, store and rm print per object with -o json.
type transferOut struct {
	URL    string `json:"url"`
	File   string `json:"file,omitempty"`
	Bytes  int64  `json:"bytes"`
	ETag   string `json:"etag,omitempty"`
	Action string `json:"action,omitempty"`
	// Receipt is the bridge's signed receipt (header form), also kept in
	// HOME/receipts/<reservation>.jsonl.
	Receipt string `json:"receipt,omitempty"`
	// Multipart is what a resumable multipart upload did (parts sent, parts
	// found at the bridge from an interrupted attempt).
	Multipart *resumeStats `json:"multipart,omitempty"`
}

func contentType(name string) string {
	return mime.TypeByExtension(path.Ext(name))
}

// upload sends a local file (or stdin for "-") to the bucket and journals
// the bridge's receipt; it returns the object and the receipt's header form
// ("" if the bridge sent none).
func (g *globals) upload(ctx context.Context, b *client.Bucket, key, src string) (*client.Object, string, error) {
	bar := newProgress("↑ " + path.Base(key))
	opts := client.UploadOptions{ContentType: contentType(key), Progress: bar.progress()}
	var o *client.Object
	var err error
	if src == "-" {
		o, err = b.Upload(ctx, key, os.Stdin, -1, opts)
	} else {
		o, err = b.UploadFile(ctx, key, src, opts)
	}
	bar.finish(err == nil)
	if err != nil {
		return nil, "", s3Explain(err, b, key)
	}
	rcpt, err := g.keepReceipt(fbURL(b.Name, key), o.Receipt, o.ReceiptProblem)
	if err != nil {
		return nil, "", err
	}
	return o, rcpt, nil
}
