package main

import (
	"fmt"
	"strings"

	"github.com/flashback-network/flashback/contract/accesskey"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

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
				d, err := b.Remove(ctx, t.key)
				if err != nil {
					return s3Explain(err, b, t.key)
				}
				rcpt, err := g.keepReceipt(fbURL(t.res, t.key), d.Receipt, d.ReceiptProblem)
				if err != nil {
					return err
				}
				out.Deleted = append(out.Deleted, transferOut{URL: fbURL(t.res, t.key), Bytes: o.Size, ETag: o.ETag, Action: "delete", Receipt: rcpt})
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
