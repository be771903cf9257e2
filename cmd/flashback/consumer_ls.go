package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
)

type lsObject struct {
	URL string `json:"url"`
	client.Object
}

type lsReservation struct {
	Reservation string        `json:"reservation"`
	URL         string        `json:"url"`
	Status      string        `json:"status"`
	Unit        string        `json:"unit"`
	Provider    string        `json:"provider"`
	Bytes       uint64        `json:"bytes"`
	StoredBytes uint64        `json:"stored_bytes"`
	End         contract.Time `json:"end"`
	AccessKeyID string        `json:"access_key_id,omitempty"`
	Endpoint    string        `json:"endpoint,omitempty"`
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
			b, err := g.openBucket(ctx, res, contract.PermRead, from)
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
		page, err := c.Reservations(qctx, client.ReservationFilter{Page: client.Page{Limit: contract.MaxPageSize, Cursor: cursor}, Consumer: k.Address})
		cancel()
		if err != nil {
			return explain(err)
		}
		for _, r := range page.Reservations {
			if !all && r.Status != contract.ResActive && r.Status != contract.ResPending {
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
