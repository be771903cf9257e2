package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

func benchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure this machine's services against a baseline"}
	cmd.AddCommand(benchS3Cmd(g))
	return cmd
}

func benchS3Cmd(g *globals) *cobra.Command {
	var base, target s3bench.Endpoint
	var serve []string
	var o s3bench.Options
	var skip []string
	cmd := &cobra.Command{
		Use:   "s3",
		Short: "Measure a bridge (or any S3 endpoint) against an S3 endpoint used directly, in interleaved rounds, and print the ratios",
		Long: `Runs the same operations on the baseline (--against, e.g. the MinIO or S3 service a unit stores into)
and on each target: a bridge given by --bridge, and/or bridges this command starts itself with
--serve-bridge (local:DIR for a local-disk unit, s3 for a unit in front of the --against endpoint).
Operations: a large single PUT and GET, a multipart upload (completion timed apart), a LIST of a
full page, and small PUTs and GETs. Each target's ratio is its speed relative to the baseline.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if base.URL == "" {
				return errors.New("--against URL is required")
			}
			base.Name = "baseline"
			var targets []s3bench.Endpoint
			if target.URL != "" {
				target.Name = "bridge"
				targets = append(targets, target)
			}
			for i, spec := range serve {
				sb, err := serveBenchBridge(spec, i, base)
				if err != nil {
					return err
				}
				defer sb.Close()
				targets = append(targets, sb.Endpoint)
			}
			if len(targets) == 0 {
				return errors.New("give --bridge URL or --serve-bridge local:DIR|s3")
			}
			o.Skip = map[s3bench.Op]bool{}
			for _, s := range skip {
				o.Skip[s3bench.Op(strings.ReplaceAll(s, "-", " "))] = true
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			rep, err := s3bench.Run(ctx, base, targets, o)
			if err != nil {
				return err
			}
			return g.print(rep, func(w io.Writer) { rep.Print(w) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&base.URL, "against", "", "baseline S3 endpoint URL (http(s)://host:port)")
	f.StringVar(&base.AccessKey, "against-access-key", os.Getenv("AWS_ACCESS_KEY_ID"), "baseline access key (env AWS_ACCESS_KEY_ID)")
	f.StringVar(&base.SecretKey, "against-secret-key", os.Getenv("AWS_SECRET_ACCESS_KEY"), "baseline secret key (env AWS_SECRET_ACCESS_KEY)")
	f.StringVar(&base.Bucket, "against-bucket", "", "an existing bucket of the baseline to write into")
	f.BoolVar(&base.CreateBucket, "create-bucket", false, "create the baseline bucket if it does not exist")
	f.StringVar(&base.Region, "against-region", "us-east-1", "baseline region")
	f.StringVar(&target.URL, "bridge", "", "a running bridge's S3 URL to measure")
	f.StringVar(&target.AccessKey, "access-key", "", "the bridge access key (write permission)")
	f.StringVar(&target.SecretKey, "secret-key", "", "the bridge secret key")
	f.StringVar(&target.Bucket, "bucket", "", "the bridge bucket (reservation id)")
	f.StringArrayVar(&serve, "serve-bridge", nil, "start a bridge in this process over local:DIR or s3 (the --against bucket); repeatable")
	f.IntVar(&o.Rounds, "rounds", 3, "interleaved rounds (medians are reported)")
	f.Int64Var(&o.LargeSize, "large-size", 64<<20, "size of the single PUT/GET object")
	f.Int64Var(&o.MPUSize, "multipart-size", 1<<30, "size of the multipart object")
	f.Int64Var(&o.PartSize, "part-size", 16<<20, "multipart part size")
	f.IntVar(&o.ListCount, "list-count", 1000, "objects in the listed page")
	f.Int64Var(&o.SmallSize, "small-size", 4<<10, "size of the small objects")
	f.IntVar(&o.SmallCount, "small-count", 100, "small objects per round")
	f.StringSliceVar(&skip, "skip", nil, "operations not to run: large-PUT, large-GET, multipart-PUT, LIST-page, small-PUT, small-GET")
	return cmd
}

// serveBenchBridge starts an in-process bridge for --serve-bridge.
func serveBenchBridge(spec string, i int, base s3bench.Endpoint) (*s3bench.ServedBridge, error) {
	var cfg storage.Config
	name := fmt.Sprintf("bridge-%d", i+1)
	switch {
	case strings.HasPrefix(spec, "local:"):
		cfg = storage.Config{Kind: storage.KindLocal, Local: &storage.LocalConfig{Root: strings.TrimPrefix(spec, "local:")}}
		name = "bridge-local"
	case spec == "s3":
		cfg = storage.Config{Kind: storage.KindS3, S3: &storage.S3Config{
			Endpoint: base.URL, Region: base.Region, Bucket: base.Bucket, Prefix: "fb-bench-unit/", PathStyle: true,
			AccessKeyID: base.AccessKey, SecretAccessKey: base.SecretKey,
		}}
		name = "bridge-s3"
	default:
		return nil, fmt.Errorf("--serve-bridge %q: want local:DIR or s3", spec)
	}
	be, err := storage.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--serve-bridge %q: %w", spec, err)
	}
	return s3bench.ServeBridge(name, be, "bench")
}
