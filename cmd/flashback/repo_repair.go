package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/repair"
)

// repairReport is what `repo repair` prints.
type repairReport struct {
	Repo       string                `json:"repo"`
	Keys       int64                 `json:"keys"`
	Copied     int64                 `json:"copied"`
	Bytes      int64                 `json:"bytes"`
	Seconds    float64               `json:"seconds"`
	MBps       float64               `json:"mbps"` // copied bytes per second of the pass, MB = 10^6 bytes
	Deleted    int64                 `json:"deleted"`
	Failed     int64                 `json:"failed"`
	Skipped    int64                 `json:"skipped"`
	Unresolved int64                 `json:"unresolved"`
	Remaining  int64                 `json:"remaining"` // copies still missing or bad after the pass
	Members    []repair.MemberStatus `json:"members"`
}

// repoRepairCmd is `flashback repo repair NAME --config FILE`: one full
// repair pass over a mirror repository, outside the gateway, with the
// engine the gateway's repair loop runs.
func repoRepairCmd(g *globals) *cobra.Command {
	var cfgPath string
	var scrub bool
	cmd := &cobra.Command{
		Use:   "repair NAME --config GATEWAY_CONFIG",
		Short: "Run one full repair pass over a mirror repository (the gateway's repair loop does this continuously)",
		Long: "Compare every member of the repository (from the gateway's config file) and copy what is\n" +
			"missing or bad on a member from a good copy, verifying every copy by its SHA-256; deletes\n" +
			"only come from the gateway's queue, so none is made here. Exits non-zero if copies remain.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if cfgPath == "" {
				return errors.New("--config GATEWAY_CONFIG is required")
			}
			fc, err := gateway.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			if scrub {
				if fc.Repair == nil {
					fc.Repair = &gateway.FileRepair{}
				}
				fc.Repair.Scrub = true
			}
			r, done, err := gateway.NewRepairer(fc, args[0])
			if err != nil {
				return err
			}
			defer done()
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			res, err := r.Once(ctx)
			if err != nil {
				return fmt.Errorf("repair of %s interrupted: %w", args[0], err)
			}
			rep := reportOf(args[0], res, r.Status())
			if err := g.print(rep, func(w io.Writer) { printRepair(w, rep) }); err != nil {
				return err
			}
			if rep.Remaining > 0 || rep.Failed > 0 {
				return fmt.Errorf("repair of %s: %d copies remain, %d failed (see the members' last errors)", args[0], rep.Remaining, rep.Failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "the gateway's configuration file (gateway.FileConfig JSON)")
	cmd.Flags().BoolVar(&scrub, "scrub", false, "read and hash every copy (finds bytes rotten on disk)")
	return cmd
}

func reportOf(name string, res repair.PassResult, st repair.Status) repairReport {
	rep := repairReport{Repo: name, Keys: res.Keys, Copied: res.Repaired, Bytes: res.Bytes,
		Seconds: float64(res.DurationMS) / 1000, Deleted: res.Deleted, Failed: res.Failed,
		Skipped: res.Skipped, Unresolved: res.Unresolved, Members: st.Members}
	if res.DurationMS > 0 {
		rep.MBps = float64(res.Bytes) / (float64(res.DurationMS) / 1000) / 1e6
	}
	for _, m := range st.Members {
		rep.Remaining += m.BehindBy
	}
	return rep
}

func printRepair(w io.Writer, rep repairReport) {
	fmt.Fprintf(w, "repository %s: %d keys scanned, %d objects copied (%s) in %.1fs, %.1f MB/s, %d remaining\n",
		rep.Repo, rep.Keys, rep.Copied, bytesHuman(uint64(rep.Bytes)), rep.Seconds, rep.MBps, rep.Remaining)
	if rep.Failed+rep.Skipped+rep.Unresolved > 0 {
		fmt.Fprintf(w, "  failed %d, skipped %d, without an authoritative version %d\n", rep.Failed, rep.Skipped, rep.Unresolved)
	}
	tw := table(w)
	fmt.Fprintln(tw, "MEMBER\tOBJECTS\tBYTES\tBEHIND\tREPAIRED\tSTATE")
	for _, m := range rep.Members {
		state := "level"
		switch {
		case m.Paused:
			state = "paused: " + m.PausedReason
		case m.LastError != "":
			state = "last error: " + m.LastError
		case !m.Level:
			state = "behind"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\n", m.ID, m.Objects, bytesHuman(uint64(m.Bytes)), m.BehindBy, m.RepairedObjects, state)
	}
	tw.Flush()
}

// fillLive sets each member's Live figures from the gateway's admin
// endpoint (GET ADMIN/_flashback/repos/NAME/status).
func fillLive(ctx context.Context, admin string, r *types.Repo) error {
	u := strings.TrimRight(admin, "/") + "/_flashback/repos/" + url.PathEscape(r.Name) + "/status"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("--gateway-admin %q: %w", admin, err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	var st gateway.RepoRepairStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	byID := map[string]gateway.MemberRepairStatus{}
	for _, m := range st.Members {
		byID[m.ID] = m
	}
	for i := range r.Members {
		m, ok := byID[r.Members[i].Reservation]
		if !ok {
			continue
		}
		live := &types.RepoMemberLive{Objects: uint64(max(m.Objects, 0)), Bytes: uint64(max(m.Bytes, 0)),
			BehindBy: uint64(max(m.BehindBy, 0)), LastError: m.LastError}
		if m.Paused {
			live.LastError = m.PausedReason
		}
		if m.LastFullScan != nil {
			live.LastFullScan = core.Time(m.LastFullScan.Unix())
		}
		r.Members[i].Live = live
	}
	return nil
}
