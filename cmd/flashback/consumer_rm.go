package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
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
					if b, err = g.openBucket(ctx, t.res, contract.PermWrite, from); err != nil {
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
