package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// The consumer CLI: `flashback store` (quote, reserve, key, upload in one
// go), and `cp`, `ls`, `rm` on fb://RESERVATION/key URLs, with the access
// keys kept in HOME/s3keys.json.

// consumerCmds are added to the root command.
func consumerCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{storeCmd(g), cpCmd(g), lsCmd(g), rmCmd(g)}
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
}

func contentType(name string) string {
	return mime.TypeByExtension(path.Ext(name))
}

// upload sends a local file (or stdin for "-") to the bucket.
func upload(ctx context.Context, b *client.Bucket, key, src string) (*client.Object, error) {
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
		return nil, s3Explain(err, b, key)
	}
	return o, nil
}

// ---- store ----

func storeCmd(g *globals) *cobra.Command {
	var from, size, term, egress, region, maxPrice string
	var acceptWait time.Duration
	cmd := &cobra.Command{
		Use:   "store FILE...",
		Short: "Reserve storage on the best-scoring fitting unit, create an access key and upload files",
		Long: "Quote the market for units that fit --size for --term (in --region, at most --max-price per\n" +
			"GiB-month), reserve the best-scoring one (the cheapest among equals), create a write key\n" +
			"(stored in HOME/s3keys.json) and upload each FILE to fb://RESERVATION/<its base name>.\n" +
			"--size defaults to twice the files' total, rounded up to a whole GiB; --egress to --size.",
		Example: "  flashback store photo.jpg notes.txt --term 30d --from alice\n" +
			"  flashback cp fb://res-1/photo.jpg copy.jpg",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var total uint64
			seen := map[string]string{}
			for _, f := range files {
				st, err := os.Stat(f)
				if err != nil {
					return err
				}
				if !st.Mode().IsRegular() {
					return fmt.Errorf("%s: not a regular file", f)
				}
				base := filepath.Base(f)
				if prev, dup := seen[base]; dup {
					return fmt.Errorf("%s and %s would both be stored as %q", prev, f, base)
				}
				seen[base] = f
				total += uint64(st.Size())
			}
			m := &market.MsgReserve{}
			var err error
			if cmd.Flags().Changed("size") {
				if m.Bytes, err = parseSize("size", size); err != nil {
					return err
				}
				if m.Bytes < total {
					return fmt.Errorf("--size %s is smaller than the files (%s)", bytesHuman(m.Bytes), bytesHuman(total))
				}
			} else {
				const gib = 1 << 30
				m.Bytes = max(gib, (2*total+gib-1)/gib*gib)
			}
			if m.Term, err = parseDuration("term", term); err != nil {
				return err
			}
			m.EgressBytes = m.Bytes
			if cmd.Flags().Changed("egress") {
				if m.EgressBytes, err = parseSize("egress", egress); err != nil {
					return err
				}
			}
			var limit *core.Amount
			if maxPrice != "" {
				a, err := parseAmountFlag("max-price", maxPrice)
				if err != nil {
					return err
				}
				limit = &a
			}
			priv, err := g.privKey(from)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			c := g.client()

			// Quote and pick.
			qctx, qcancel := context.WithTimeout(ctx, 30*time.Second)
			quotes, err := c.Quote(qctx, client.QuoteRequest{Bytes: m.Bytes, Term: m.Term, Egress: m.EgressBytes, Region: region, Limit: market.MaxPageSize})
			qcancel()
			if err != nil {
				return fmt.Errorf("quote: %w", explain(err))
			}
			best := pickUnit(quotes.Quotes, limit)
			if best == nil {
				where := ""
				if region != "" {
					where = " in region " + region
				}
				price := ""
				if limit != nil {
					price = " at most " + client.FormatAmount(*limit) + " per GiB-month"
				}
				return fmt.Errorf("no available unit%s%s fits %s for %s (%d quoted; see `flashback query units`)", where, price, bytesHuman(m.Bytes), durHuman(m.Term), len(quotes.Quotes))
			}
			m.Unit = best.Unit
			m.MaxPrice = best.StoragePrice
			if limit != nil {
				m.MaxPrice = *limit
			}
			text := g.output != "json"
			if text {
				fmt.Fprintf(g.out, "unit %s (provider %s, %s/%s, score %d, %s per GiB-month): %s for %s, egress %s, escrow %s\n",
					best.Unit, best.Provider, best.Region, best.Country, best.Score, client.FormatAmount(best.StoragePrice),
					bytesHuman(m.Bytes), durHuman(m.Term), bytesHuman(m.EgressBytes), client.FormatAmount(best.Cost.Total))
			}

			// Reserve.
			signer := c.Signer(priv)
			rctx, rcancel := context.WithTimeout(ctx, 90*time.Second)
			res, err := signer.Submit(rctx, m)
			rcancel()
			if err != nil {
				return fmt.Errorf("reserve %s: %w", best.Unit, explain(err))
			}
			resID := client.EventAttr(res, "reservation_created", "id")
			status := client.EventAttr(res, "reservation_created", "status")
			if text {
				fmt.Fprintf(g.out, "reserved %s (%s, tx %s at height %d)\n", resID, status, res.Hash, res.Height)
			}
			out := storeOut{Reservation: resID, Unit: best.Unit, Provider: best.Provider, Bytes: m.Bytes, Term: m.Term,
				EgressBytes: m.EgressBytes, Escrow: client.EventAttr(res, "reservation_created", "escrow"), Tx: res.Hash, Files: []transferOut{}}

			// Key, stored before anything else can fail.
			kctx, kcancel := context.WithTimeout(ctx, 90*time.Second)
			k, err := g.createS3Key(kctx, resID, accesskey.PermWrite, from)
			kcancel()
			if err != nil {
				return err
			}
			out.AccessKeyID, out.Endpoint = k.AccessKeyID, k.Endpoint
			if status != market.ResActive {
				g.note("waiting up to %s for the provider to accept %s", acceptWait, resID)
				if err := waitActive(ctx, c, resID, acceptWait); err != nil {
					return err
				}
			}
			b := k.Bucket()
			if err := b.WaitReady(ctx, 20*time.Second); err != nil {
				return s3Explain(err, b, "")
			}

			// Upload.
			for _, f := range files {
				key := filepath.Base(f)
				o, err := upload(ctx, b, key, f)
				if err != nil {
					return fmt.Errorf("%w (the reservation %s and its key are kept: retry with `flashback cp %s %s`)", err, resID, f, fbURL(resID, key))
				}
				t := transferOut{URL: fbURL(resID, key), File: f, Bytes: o.Size, ETag: o.ETag}
				out.Files = append(out.Files, t)
				if text {
					fmt.Fprintf(g.out, "%s  (%s)\n", t.URL, bytesHuman(uint64(t.Bytes)))
				}
			}
			if !text {
				return g.print(out, nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&size, "size", "", "capacity to reserve (default: twice the files' total, rounded up to a GiB)")
	f.StringVar(&term, "term", "30d", "term: seconds or with a unit (30d, 12h, 1mo)")
	f.StringVar(&egress, "egress", "", "egress allowance (default: the size)")
	f.StringVar(&region, "region", "", "only units in this region")
	f.StringVar(&maxPrice, "max-price", "", "highest storage price per GiB-month, uflash or with a unit (1.5FLASH) (default: any)")
	f.DurationVar(&acceptWait, "accept-timeout", 2*time.Minute, "how long to wait for a provider to accept the reservation (units without auto-accept)")
	addFrom(cmd, &from)
	return cmd
}

type storeOut struct {
	Reservation string        `json:"reservation"`
	Unit        string        `json:"unit"`
	Provider    string        `json:"provider"`
	Bytes       uint64        `json:"bytes"`
	Term        int64         `json:"term_seconds"`
	EgressBytes uint64        `json:"egress_bytes"`
	Escrow      string        `json:"escrow"`
	Tx          string        `json:"tx"`
	AccessKeyID string        `json:"access_key_id"`
	Endpoint    string        `json:"endpoint"`
	Files       []transferOut `json:"files"`
}

// pickUnit returns the best-scoring quote within limit (nil: any price),
// the cheapest among equal scores.
func pickUnit(qs []types.QuoteItem, limit *core.Amount) *types.QuoteItem {
	var best *types.QuoteItem
	for i := range qs {
		q := &qs[i]
		if limit != nil && q.StoragePrice > *limit {
			continue
		}
		if best == nil || q.Score > best.Score || q.Score == best.Score && q.Cost.Total < best.Cost.Total {
			best = q
		}
	}
	return best
}

// waitActive waits for a pending reservation to be accepted.
func waitActive(ctx context.Context, c *client.Client, res string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := c.Reservation(qctx, res)
		cancel()
		if err == nil {
			switch r.Status {
			case market.ResActive:
				return nil
			case market.ResPending:
			default:
				return fmt.Errorf("reservation %s is %s", res, r.Status)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reservation %s is still pending the provider's acceptance; upload later with `flashback cp FILE %s`", res, fbURL(res, ""))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// ---- cp ----

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
	o, err := upload(ctx, b, key, src)
	if err != nil {
		return err
	}
	t := transferOut{URL: fbURL(res, key), File: src, Bytes: o.Size, ETag: o.ETag, Action: "upload"}
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

// ---- ls ----

type lsObject struct {
	URL string `json:"url"`
	client.Object
}

type lsReservation struct {
	Reservation string    `json:"reservation"`
	URL         string    `json:"url"`
	Status      string    `json:"status"`
	Unit        string    `json:"unit"`
	Provider    string    `json:"provider"`
	Bytes       uint64    `json:"bytes"`
	StoredBytes uint64    `json:"stored_bytes"`
	End         core.Time `json:"end"`
	AccessKeyID string    `json:"access_key_id,omitempty"`
	Endpoint    string    `json:"endpoint,omitempty"`
}

func lsCmd(g *globals) *cobra.Command {
	var from string
	var all bool
	cmd := &cobra.Command{
		Use:   "ls [fb://RESERVATION[/PREFIX]]",
		Short: "List the objects of a reservation (under a prefix), or with no URL your reservations",
		Long: "With an fb:// URL, list every object whose key starts with PREFIX.\n" +
			"Without one, list the reservations of --from (active and pending unless --all), with the\n" +
			"access key stored for each in HOME/s3keys.json.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			if len(args) == 0 {
				return lsReservations(ctx, g, from, all)
			}
			res, prefix, ok, err := parseFB(args[0])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%q: want fb://RESERVATION[/PREFIX]", args[0])
			}
			b, err := g.openBucket(ctx, res, accesskey.PermRead, from)
			if err != nil {
				return err
			}
			objs, err := b.List(ctx, prefix)
			if err != nil {
				return s3Explain(err, b, prefix)
			}
			out := struct {
				Reservation string     `json:"reservation"`
				Prefix      string     `json:"prefix"`
				Objects     []lsObject `json:"objects"`
			}{Reservation: res, Prefix: prefix, Objects: []lsObject{}}
			var total int64
			for _, o := range objs {
				out.Objects = append(out.Objects, lsObject{URL: fbURL(res, o.Key), Object: o})
				total += o.Size
			}
			return g.print(out, func(w io.Writer) {
				tw := table(w)
				for _, o := range out.Objects {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", o.LastModified.UTC().Format(time.RFC3339), bytesHuman(uint64(o.Size)), o.URL)
				}
				tw.Flush()
				fmt.Fprintf(w, "%d objects, %s\n", len(out.Objects), bytesHuman(uint64(total)))
			})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "your key: whose reservations to list; with a URL, creates a read key when none is stored")
	cmd.Flags().BoolVar(&all, "all", false, "without a URL: include ended reservations")
	return cmd
}

func lsReservations(ctx context.Context, g *globals, from string, all bool) error {
	if from == "" {
		return fmt.Errorf("give fb://RESERVATION[/PREFIX], or --from KEY to list that key's reservations")
	}
	kr, err := g.keyring()
	if err != nil {
		return err
	}
	k, err := kr.Show(from)
	if err != nil {
		return fmt.Errorf("key %q: %w", from, err)
	}
	keys, err := g.loadS3Keys()
	if err != nil {
		return err
	}
	c := g.client()
	out := struct {
		Reservations []lsReservation `json:"reservations"`
	}{Reservations: []lsReservation{}}
	cursor := ""
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		page, err := c.Reservations(qctx, client.ReservationFilter{Page: client.Page{Limit: market.MaxPageSize, Cursor: cursor}, Consumer: k.Address})
		cancel()
		if err != nil {
			return explain(err)
		}
		for _, r := range page.Reservations {
			if !all && r.Status != market.ResActive && r.Status != market.ResPending {
				continue
			}
			lr := lsReservation{Reservation: r.ID, URL: fbURL(r.ID, ""), Status: r.Status, Unit: r.Unit, Provider: r.Provider,
				Bytes: r.Bytes, StoredBytes: r.StoredBytes, End: r.End}
			if sk, ok := keys[r.ID]; ok {
				lr.AccessKeyID, lr.Endpoint = sk.AccessKeyID, sk.Endpoint
			}
			out.Reservations = append(out.Reservations, lr)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	sort.SliceStable(out.Reservations, func(i, j int) bool {
		return resNum(out.Reservations[i].Reservation) < resNum(out.Reservations[j].Reservation)
	})
	return g.print(out, func(w io.Writer) {
		tw := table(w)
		fmt.Fprintln(tw, "URL\tSTATUS\tUNIT\tSIZE\tSTORED\tENDS\tLOCAL KEY")
		for _, r := range out.Reservations {
			key := r.AccessKeyID
			if key == "" {
				key = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.URL, r.Status, r.Unit, bytesHuman(r.Bytes), bytesHuman(r.StoredBytes), timeHuman(r.End), key)
		}
		tw.Flush()
	})
}

// resNum orders "res-12" after "res-9".
func resNum(id string) int {
	n := 0
	for _, c := range strings.TrimPrefix(id, "res-") {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// ---- rm ----

func rmCmd(g *globals) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "rm fb://RESERVATION/KEY...",
		Short: "Delete objects from a reservation",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			type target struct{ res, key string }
			var ts []target
			for _, a := range args {
				res, key, ok, err := parseFB(a)
				if err != nil {
					return err
				}
				if !ok || key == "" || strings.HasSuffix(key, "/") {
					return fmt.Errorf("%q: want fb://RESERVATION/KEY", a)
				}
				ts = append(ts, target{res, key})
			}
			buckets := map[string]*client.Bucket{}
			out := struct {
				Deleted []transferOut `json:"deleted"`
			}{Deleted: []transferOut{}}
			for _, t := range ts {
				b := buckets[t.res]
				if b == nil {
					var err error
					if b, err = g.openBucket(ctx, t.res, accesskey.PermWrite, from); err != nil {
						return err
					}
					buckets[t.res] = b
				}
				o, err := b.Stat(ctx, t.key)
				if err != nil {
					return s3Explain(err, b, t.key)
				}
				if err := b.Delete(ctx, t.key); err != nil {
					return s3Explain(err, b, t.key)
				}
				out.Deleted = append(out.Deleted, transferOut{URL: fbURL(t.res, t.key), Bytes: o.Size, ETag: o.ETag, Action: "delete"})
				if g.output != "json" {
					fmt.Fprintf(g.out, "deleted %s\n", fbURL(t.res, t.key))
				}
			}
			if g.output == "json" {
				return g.print(out, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the reservation's consumer key, to create a write key when none is stored")
	return cmd
}
