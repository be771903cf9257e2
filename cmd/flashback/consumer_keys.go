package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
)

// The consumer's local S3 credential store: HOME/s3keys.json (0600) maps a
// reservation id to the access key the consumer commands made for it. The
// secret of a key is shown only once, when it is created, so this file is
// the only place it is kept.

const s3KeysFile = "s3keys.json"

type storedKey struct {
	AccessKeyID string `json:"access_key_id"`
	Secret      string `json:"secret"`
	Endpoint    string `json:"endpoint"`
	Perm        string `json:"perm,omitempty"`
	CreatedAt   string `json:"created_at,omitempty"`
}

func (g *globals) s3KeysPath() string { return filepath.Join(g.home, s3KeysFile) }

func (g *globals) loadS3Keys() (map[string]storedKey, error) {
	m := map[string]storedKey{}
	b, err := os.ReadFile(g.s3KeysPath())
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", g.s3KeysPath(), err)
	}
	return m, nil
}

// saveS3Key adds (or replaces) a reservation's key, writing the file
// atomically with mode 0600.
func (g *globals) saveS3Key(res string, k storedKey) error {
	m, err := g.loadS3Keys()
	if err != nil {
		return err
	}
	m[res] = k
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(g.home, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(g.home, "."+s3KeysFile+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), g.s3KeysPath())
}

func storedFromCreated(k *client.CreatedKey) storedKey {
	return storedKey{AccessKeyID: k.AccessKeyID, Secret: k.Secret, Endpoint: k.Endpoint, Perm: k.Perm, CreatedAt: time.Now().UTC().Format(time.RFC3339)}
}

// permCovers says whether a key with permission have may do what need
// needs (read < write < admin). A key stored without a permission is
// assumed to be able to.
func permCovers(have, need string) bool {
	rank := map[string]int{accesskey.PermRead: 1, accesskey.PermWrite: 2, accesskey.PermAdmin: 3}
	return have == "" || rank[have] >= rank[need]
}

// openBucket returns the S3 bucket of reservation res with a key allowing
// perm: the stored one, else (with from set) a new key created on chain and
// stored. A usable stored key is always preferred to a new one: --from
// only creates a key when none is stored or the stored one cannot do perm.
func (g *globals) openBucket(ctx context.Context, res, perm, from string) (*client.Bucket, error) {
	bi, err := g.openBucketInfo(ctx, res, perm, from)
	if err != nil {
		return nil, err
	}
	return bi.Bucket, nil
}

// openBucketInfo is openBucket with the reservation as the chain says.
func (g *globals) openBucketInfo(ctx context.Context, res, perm, from string) (*bucketInfo, error) {
	keys, err := g.loadS3Keys()
	if err != nil {
		return nil, err
	}
	if k, ok := keys[res]; ok && permCovers(k.Perm, perm) {
		if from != "" {
			g.note("using the stored %s access key %s for %s (no new key created)", permName(k.Perm), k.AccessKeyID, res)
		}
		return g.openStored(ctx, res, k)
	}
	if from == "" {
		if k, ok := keys[res]; ok {
			return nil, fmt.Errorf("the stored access key %s for %s is %s-only; give --from KEY (the reservation's consumer) to create a %s key", k.AccessKeyID, res, k.Perm, perm)
		}
		return nil, fmt.Errorf("no access key for reservation %s in %s: give --from KEY (the reservation's consumer) to create one, or `flashback accesskey import %s`", res, g.s3KeysPath(), res)
	}
	if k, ok := keys[res]; ok {
		g.note("the stored access key %s for %s is %s-only: creating a %s key (the old one stays on chain; `flashback tx accesskey revoke %s` removes it)", k.AccessKeyID, res, k.Perm, perm, k.AccessKeyID)
	} else {
		g.noteUnstoredKeys(ctx, res)
	}
	k, err := g.createS3Key(ctx, res, perm, from)
	if err != nil {
		return nil, err
	}
	b := k.Bucket()
	if err := b.WaitReady(ctx, 20*time.Second); err != nil {
		return nil, s3Explain(err, b, "")
	}
	r, _, err := g.chainEndpoint(ctx, res)
	if err != nil {
		r = nil // the quota check then asks the bridge only
	}
	return &bucketInfo{Bucket: b, Res: r, Key: storedFromCreated(k)}, nil
}

// noteUnstoredKeys says, before --from makes a key, which keys the
// reservation already has on chain: their secrets are not here, but one
// made elsewhere can be imported instead of adding another.
func (g *globals) noteUnstoredKeys(ctx context.Context, res string) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	page, err := g.client().AccessKeys(qctx, res, "", "")
	if err != nil || len(page.AccessKeys) == 0 {
		return
	}
	ids := make([]string, 0, len(page.AccessKeys))
	for _, k := range page.AccessKeys {
		ids = append(ids, k.ID+" ("+k.Perm+")")
	}
	g.note("%s has %d access key(s) on chain whose secret is not stored here: %s; creating a new one (`flashback accesskey import %s ID` would use one of them)", res, len(ids), strings.Join(ids, ", "), res)
}

func permName(p string) string {
	if p == "" {
		return "unrestricted"
	}
	return p
}

// createS3Key creates an access key on chain and stores it.
func (g *globals) createS3Key(ctx context.Context, res, perm, from string) (*client.CreatedKey, error) {
	priv, err := g.privKey(from)
	if err != nil {
		return nil, err
	}
	k, err := g.client().Signer(priv).CreateAccessKey(ctx, res, perm)
	if err != nil {
		if client.CodeOf(err) == "not_found" {
			return nil, fmt.Errorf("reservation %s: %w", res, explain(err))
		}
		return nil, fmt.Errorf("create an access key for %s: %w", res, explain(err))
	}
	if err := g.saveS3Key(res, storedFromCreated(k)); err != nil {
		// The secret would be lost: show it.
		return nil, fmt.Errorf("store the new access key %s (secret %s) for %s: %w", k.AccessKeyID, k.Secret, res, err)
	}
	g.note("created %s access key %s for %s (stored in %s)", perm, k.AccessKeyID, res, g.s3KeysPath())
	return k, nil
}

// note writes an informational line to stderr in text mode.
func (g *globals) note(format string, args ...any) {
	if g.output == "json" {
		return
	}
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// s3Explain turns an S3 error into one readable line.
func s3Explain(err error, b *client.Bucket, key string) error {
	if err == nil {
		return nil
	}
	what := fbURL(b.Name, key)
	switch client.S3Code(err) {
	case "InvalidAccessKeyId":
		return fmt.Errorf("%s: the bridge at %s does not accept the access key (revoked, the reservation not active, or not synced yet): %w", what, b.Endpoint, err)
	case "NoSuchBucket":
		return fmt.Errorf("%s: the bridge at %s does not serve reservation %s (not active, or on another provider): %w", what, b.Endpoint, b.Name, err)
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%s: no such object", what)
	case "AccessDenied":
		return fmt.Errorf("%s: access denied for the stored key (read-only key? create a write key with --from): %w", what, err)
	case "QuotaExceeded":
		return fmt.Errorf("%s: the reservation is full (grow it with `flashback tx reservation resize %s --size SIZE`): %w", what, b.Name, err)
	}
	if strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%s: the provider's bridge at %s is not reachable: %w", what, b.Endpoint, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
