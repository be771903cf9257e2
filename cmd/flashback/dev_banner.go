package main

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/chain"
)

// devMarket is what the dev platform provisioned, for its banner.
type devMarket struct {
	apiURL, reservation, consumer, accessKeyID, envPath, oracle string
	providers                                                   []*devProvider
	repo                                                        *devRepo
	epochSeconds                                                int64
}

// printDevBanner tells the user what runs where, once the bridges serve.
func printDevBanner(g *globals, m devMarket, urls bridgeURLs) {
	apiURL, resID, envPath := m.apiURL, m.reservation, m.envPath
	first := m.providers[0]
	fmt.Fprintf(g.out, `
Flashback dev platform is up.
  REST API     %s   (spec: %s/openapi.json)
  S3 endpoint  %s   (bridge metrics: %s/metrics)
  home         %s
  unit         %s (local disk, provider %s)
  reservation  %s (bucket), consumer alice %s
  S3 key       %s (secret in %s)
  oracle       %s probes the units every %d s epoch (GET %s/v1/units/%s/qos)
`, apiURL, apiURL, urls.s3[0], urls.metrics[0], g.home, first.unit, address.FromPubKey(first.key.Public().(ed25519.PublicKey)), resID, m.consumer, m.accessKeyID, envPath, m.oracle, m.epochSeconds, apiURL, first.unit)
	for i, p := range m.providers[1:] {
		fmt.Fprintf(g.out, "  %-12s unit %s behind the bridge at %s (metrics %s/metrics)\n", p.name, p.unit, urls.s3[i+1], urls.metrics[i+1])
	}
	r := m.repo
	enc := "end-to-end encrypted, owner secret " + r.ownerSecretFile
	if !r.encrypted {
		enc = "unencrypted: made by an older dev home; flashback dev --reset recreates it encrypted"
	}
	fmt.Fprintf(g.out, "  gateway      http://%s serves repository %s (mirror of %s, write quorum %d; %s; gateway key %s)\n",
		r.gatewayAddr, r.name, strings.Join(r.members, ", "), r.quorum, enc, r.gatewayKeyFile)
	fmt.Fprintf(g.out, "  admin        http://%s/_flashback/repos/%s/status (repair status; flashback repo status %s --gateway-admin $FLASHBACK_GATEWAY_ADMIN_URL)\n",
		r.adminAddr, r.name, r.name)
	fmt.Fprintf(g.out, "  repo key     %s (secret in %s: FLASHBACK_REPO_SECRET_ACCESS_KEY)\n", r.accessKeyID, envPath)
	fmt.Fprintf(g.out, "Dev keys are UNENCRYPTED, for local use only:\n")
	_ = printKeys(&globals{home: g.home, output: "text", out: g.out})
	fmt.Fprintf(g.out, `
Try (in another terminal):
  source %s      # sets FLASHBACK_HOME, FLASHBACK_NODE and the AWS_* variables
  echo hello > hello.txt && aws s3 cp hello.txt s3://$FLASHBACK_BUCKET/ && aws s3 ls s3://$FLASHBACK_BUCKET/
  AWS_ACCESS_KEY_ID=$FLASHBACK_REPO_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FLASHBACK_REPO_SECRET_ACCESS_KEY \
    aws --endpoint-url $FLASHBACK_GATEWAY_URL s3 cp hello.txt s3://$FLASHBACK_REPO/   # on all three providers
  flashback keys list
  flashback query units
  flashback query reservation %s
  flashback tx bank send $(flashback keys show bob) 1.5FLASH --from alice
`, envPath, resID)
	if _, err := exec.LookPath("flashback"); err != nil {
		fmt.Fprintf(g.out, "  (flashback is not on your PATH yet: run `make install` in the repository, which puts it in %s)\n", goBinDir())
	}
	fmt.Fprintln(g.out, "Ctrl-C stops everything; state persists (flashback dev --reset starts over).")
}

// goBinDir is where `go install` puts binaries: GOBIN, else GOPATH/bin,
// else ~/go/bin.
func goBinDir() string {
	if b := os.Getenv("GOBIN"); b != "" {
		return b
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(filepath.SplitList(p)[0], "bin")
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, "go", "bin")
}

// recordDevProfile saves the dev platform as profile "dev" (see
// saveDevProfile) and says so when it became the default.
func recordDevProfile(home, apiAddr string) error {
	if apiAddr == "" {
		a, err := chain.HomeListenAddrs(home)
		if err != nil {
			return err
		}
		apiAddr = a.API
	}
	current, err := saveDevProfile(home, "http://"+apiAddr)
	if err != nil {
		return err
	}
	if current {
		fmt.Fprintf(os.Stderr, "dev: saved profile \"dev\" in %s and made it the default, so flashback commands use this platform (flashback profile ls)\n", profilePath())
	}
	return nil
}
