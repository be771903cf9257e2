package main

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/keyring"
)

// completionKind is what a command's first argument names, read off its Use line
// ("reserve UNIT", "query reservation ID", "keys show NAME").
type completionKind int

const (
	compNone completionKind = iota
	compUnit
	compReservation
	compAccessKey
	compProvider
	compKeyName
)

func argKind(c *cobra.Command) completionKind {
	f := strings.Fields(c.Use)
	if len(f) < 2 {
		return compNone
	}
	arg := strings.Trim(f[1], "[]")
	parent := ""
	if c.Parent() != nil {
		parent = c.Parent().Name()
	}
	switch {
	case arg == "UNIT" || arg == "UNIT_ID" || (f[0] == "unit" && arg == "ID"):
		return compUnit
	case arg == "RESERVATION" || arg == "RES" || (f[0] == "reservation" && arg == "ID"):
		return compReservation
	case arg == "ACCESS_KEY_ID":
		return compAccessKey
	case arg == "PROVIDER" || (f[0] == "provider" && arg == "ADDRESS"):
		return compProvider
	case arg == "NAME" && parent == "keys":
		return compKeyName
	}
	return compNone
}

// addCompletions gives every command whose first argument is a unit,
// reservation, access key, provider or keyring key a completion of the
// ids the node (or the keyring) holds; `flashback completion bash|zsh|fish`
// prints the shell side.
func addCompletions(root *cobra.Command, g *globals) {
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if k := argKind(c); k != compNone && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return completeIDs(g, k, prefix), cobra.ShellCompDirectiveNoFileComp
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeIDs lists the ids of kind starting with prefix. It asks the node
// with a short timeout: a completion that hangs the shell is worse than none.
func completeIDs(g *globals, k completionKind, prefix string) []string {
	if k == compKeyName {
		kr, err := keyring.Open(filepath.Join(g.home, "keyring"))
		if err != nil {
			return nil
		}
		keys, err := kr.List()
		if err != nil {
			return nil
		}
		var out []string
		for _, key := range keys {
			out = appendPrefixed(out, prefix, key.Name)
		}
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c := g.client()
	var out []string
	switch k {
	case compUnit:
		if p, err := c.Units(ctx, client.UnitFilter{}); err == nil {
			for _, u := range p.Units {
				out = appendPrefixed(out, prefix, u.ID)
			}
		}
	case compReservation:
		if p, err := c.Reservations(ctx, client.ReservationFilter{}); err == nil {
			for _, r := range p.Reservations {
				out = appendPrefixed(out, prefix, r.ID)
			}
		}
	case compAccessKey:
		// The node lists keys only per reservation or provider; the ones
		// a user revokes are the ones this home made or imported.
		if keys, err := g.loadS3Keys(); err == nil {
			for _, k := range keys {
				out = appendPrefixed(out, prefix, k.AccessKeyID)
			}
			sort.Strings(out)
		}
	case compProvider:
		if p, err := c.Providers(ctx, client.ProviderOptions{}); err == nil {
			for _, pr := range p.Providers {
				out = appendPrefixed(out, prefix, pr.Address)
			}
		}
	}
	return out
}

func appendPrefixed(out []string, prefix, id string) []string {
	if strings.HasPrefix(id, prefix) {
		return append(out, id)
	}
	return out
}
