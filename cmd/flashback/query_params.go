package main

// `query params`: every chain parameter, with amounts, rates and durations
// also in human units.

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/contract/core"
)

// secondsParams are the parameters counted in seconds (the *_epochs ones
// count epochs and print as they are).
var secondsParams = map[string]bool{"epoch_seconds": true, "unbonding_period": true, "accept_timeout": true, "max_term": true, "dispute_window": true}

func paramsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "params", Short: "Chain parameters (all of them)", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			p, err := g.client().RawParams(ctx)
			if err != nil {
				return explain(err)
			}
			return g.print(p, func(w io.Writer) { printParams(w, p) })
		},
	}
}

func printParams(w io.Writer, p map[string]json.RawMessage) {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	tw := table(w)
	for _, k := range names {
		fmt.Fprintf(tw, "%s:\t%s\n", k, paramText(k, p[k]))
	}
	tw.Flush()
}

// paramText shows one value: a quoted decimal is an amount of uflash,
// *_bps a rate, a seconds parameter a duration.
func paramText(name string, raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if a, err := core.ParseAmount(s); err == nil {
			return amt(a)
		}
		return s
	}
	text := strings.TrimSpace(string(raw))
	n, err := strconv.ParseInt(text, 10, 64)
	switch {
	case err != nil:
		return text
	case strings.HasSuffix(name, "_bps") && n >= 0 && n <= 1<<32-1:
		return fmt.Sprintf("%d (%s)", n, pct(uint32(n)))
	case secondsParams[name]:
		return fmt.Sprintf("%d seconds (%s)", n, durHuman(n))
	}
	return text
}
