package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

// `flashback accesskey import` stores a key made elsewhere (another
// machine, a teammate's `tx accesskey create`), and `flashback credentials`
// prints a stored key in the forms other S3 tools take.

func accessKeyLocalCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "accesskey", Short: "The S3 access keys stored in HOME/s3keys.json (create and revoke them with `flashback tx accesskey`)"}
	var secret string
	var secretStdin bool
	imp := &cobra.Command{
		Use:   "import RESERVATION ACCESS_KEY_ID",
		Short: "Store an access key made elsewhere, after checking it on chain and at the bridge",
		Example: "  flashback accesskey import res-5 FBABCDEFGHIJKLMNOPQR --secret-stdin < secret.txt\n" +
			"  flashback cp notes.txt fb://res-5/",
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if secretStdin {
				line, err := bufio.NewReader(os.Stdin).ReadString('\n')
				if err != nil && err != io.EOF {
					return fmt.Errorf("read the secret from stdin: %w", err)
				}
				secret = strings.TrimSpace(line)
			}
			if secret == "" {
				return fmt.Errorf("give the key's secret with --secret SECRET or --secret-stdin")
			}
			ctx, cancel := signalContext()
			defer cancel()
			return importS3Key(ctx, g, args[0], args[1], secret)
		},
	}
	imp.Flags().StringVar(&secret, "secret", "", "the key's secret access key")
	imp.Flags().BoolVar(&secretStdin, "secret-stdin", false, "read the secret from the first line of stdin (keeps it out of the shell history)")
	cmd.AddCommand(imp)
	return cmd
}

// importS3Key checks that id is a live key of res on chain (which gives its
// permission) and that the bridge accepts the secret, then stores it.
func importS3Key(ctx context.Context, g *globals, res, id, secret string) error {
	perm, err := chainKeyPerm(ctx, g.client(), res, id)
	if err != nil {
		return err
	}
	_, ep, err := g.chainEndpoint(ctx, res)
	if err != nil {
		return fmt.Errorf("reservation %s: %w", res, explain(err))
	}
	b := client.NewBucket(ep, res, id, secret)
	if err := b.WaitReady(ctx, 10*time.Second); err != nil {
		if client.S3Code(err) == "SignatureDoesNotMatch" {
			return fmt.Errorf("the bridge at %s refuses the secret of %s (a typo?); nothing stored", ep, id)
		}
		return fmt.Errorf("%w; nothing stored", s3Explain(err, b, ""))
	}
	k := storedKey{AccessKeyID: id, Secret: secret, Endpoint: ep, Perm: perm, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
	keys, err := g.loadS3Keys()
	if err != nil {
		return err
	}
	if old, ok := keys[res]; ok && old.AccessKeyID != id {
		g.note("replacing the stored key %s of %s", old.AccessKeyID, res)
	}
	if err := g.saveS3Key(res, k); err != nil {
		return err
	}
	out := struct {
		Reservation string `json:"reservation"`
		AccessKeyID string `json:"access_key_id"`
		Perm        string `json:"perm"`
		Endpoint    string `json:"endpoint"`
		StoredIn    string `json:"stored_in"`
	}{res, id, perm, ep, g.s3KeysPath()}
	return g.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "imported %s access key %s for %s (bridge %s), stored in %s\n", perm, id, res, ep, out.StoredIn)
	})
}

// chainKeyPerm finds key id among res's keys on chain.
func chainKeyPerm(ctx context.Context, c *client.Client, res, id string) (string, error) {
	cursor := ""
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		page, err := c.AccessKeys(qctx, res, "", cursor)
		cancel()
		if err != nil {
			return "", fmt.Errorf("access keys of %s: %w", res, explain(err))
		}
		for _, k := range page.AccessKeys {
			if k.ID == id {
				return k.Perm, nil
			}
		}
		if page.NextCursor == "" {
			return "", fmt.Errorf("%s is not an access key of %s on chain (revoked, or of another reservation: see `flashback query accesskeys --reservation %s`); nothing stored", id, res, res)
		}
		cursor = page.NextCursor
	}
}

// credsOut is a stored key in the forms S3 tools take.
type credsOut struct {
	Reservation string            `json:"reservation"`
	Bucket      string            `json:"bucket"`
	AccessKeyID string            `json:"access_key_id"`
	Secret      string            `json:"secret_access_key"`
	Endpoint    string            `json:"endpoint"`
	Region      string            `json:"region"`
	Perm        string            `json:"perm,omitempty"`
	Env         map[string]string `json:"env"`
	Rclone      string            `json:"rclone"`
	MC          string            `json:"mc"`
}

func credentialsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "credentials RESERVATION",
		Short: "Print the stored access key of a reservation as env lines, an rclone remote and an `mc alias set` line",
		Long: "Print the access key stored for RESERVATION (with the bridge endpoint as the chain names it\n" +
			"now) for other S3 tools: `eval \"$(flashback credentials res-5 | grep ^export)\"` sets the AWS\n" +
			"variables; the rclone section goes in rclone.conf; the mc line defines an alias. Objects are\n" +
			"in the bucket named after the reservation, addressed path-style.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			res := args[0]
			keys, err := g.loadS3Keys()
			if err != nil {
				return err
			}
			k, ok := keys[res]
			if !ok {
				return fmt.Errorf("no access key for %s in %s: create one with `flashback tx accesskey create %s --from KEY` or import one with `flashback accesskey import`", res, g.s3KeysPath(), res)
			}
			ctx, cancel := signalContext()
			defer cancel()
			bi, err := g.openStored(ctx, res, k)
			if err != nil {
				return err
			}
			out := makeCreds(res, bi.Key)
			return g.print(out, func(w io.Writer) { writeCreds(w, out) })
		},
	}
}

func makeCreds(res string, k storedKey) credsOut {
	alias := "fb-" + res
	out := credsOut{Reservation: res, Bucket: res, AccessKeyID: k.AccessKeyID, Secret: k.Secret, Endpoint: k.Endpoint, Region: client.S3Region, Perm: k.Perm,
		Env: map[string]string{"AWS_ACCESS_KEY_ID": k.AccessKeyID, "AWS_SECRET_ACCESS_KEY": k.Secret, "AWS_ENDPOINT_URL": k.Endpoint,
			"AWS_REGION": client.S3Region, "FLASHBACK_BUCKET": res}}
	out.Rclone = fmt.Sprintf("[%s]\ntype = s3\nprovider = Other\naccess_key_id = %s\nsecret_access_key = %s\nendpoint = %s\nregion = %s\nforce_path_style = true\n",
		alias, k.AccessKeyID, k.Secret, k.Endpoint, client.S3Region)
	out.MC = fmt.Sprintf("mc alias set %s %s %s %s --api S3v4 --path on", alias, k.Endpoint, k.AccessKeyID, k.Secret)
	return out
}

func writeCreds(w io.Writer, c credsOut) {
	fmt.Fprintf(w, "# %s: bucket %s at %s (%s key)\n", c.Reservation, c.Bucket, c.Endpoint, permName(c.Perm))
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION", "FLASHBACK_BUCKET"} {
		fmt.Fprintf(w, "export %s='%s'\n", name, c.Env[name])
	}
	fmt.Fprintf(w, "\n# rclone.conf (then: rclone ls fb-%s:%s)\n%s", c.Reservation, c.Bucket, c.Rclone)
	fmt.Fprintf(w, "\n# mc (then: mc ls fb-%s/%s)\n%s\n", c.Reservation, c.Bucket, c.MC)
}
