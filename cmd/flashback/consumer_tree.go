package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/flashback-network/flashback/client"
)

// Trees: a local directory against the objects under a key prefix, for
// `cp -r` and `sync`. A local file DIR/a/b.txt is the object PREFIX/a/b.txt
// (like `aws s3 cp --recursive`: the directory's contents go under the
// prefix, not the directory itself).

type localFile struct {
	path        string
	size, mtime int64 // mtime in ns
}

// walkLocal lists the regular files under dir by their slash-separated
// path relative to dir. Symlinks and special files are skipped with a
// note; half-written downloads (.fbpart-) are ignored.
func (g *globals) walkLocal(dir string) (map[string]localFile, error) {
	files := map[string]localFile{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if strings.Contains(d.Name(), ".fbpart-") {
			return nil
		}
		if !d.Type().IsRegular() {
			g.note("skipping %s: not a regular file", p)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = localFile{path: p, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
		return nil
	})
	return files, err
}

// dirPrefix makes a non-empty prefix end in "/".
func dirPrefix(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		return p + "/"
	}
	return p
}

// listRemote lists the objects under prefix by their key relative to it,
// skipping "directory" markers (keys ending in /).
func listRemote(ctx context.Context, b *client.Bucket, prefix string) (map[string]client.Object, error) {
	objs, err := b.List(ctx, prefix)
	if err != nil {
		return nil, s3Explain(err, b, prefix)
	}
	m := map[string]client.Object{}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		m[rel] = o
	}
	return m, nil
}

// localPathFor maps a relative key into dir, refusing keys that would land
// outside it (an object named ../../.bashrc must not be written there).
func localPathFor(dir, rel string) (string, error) {
	clean := path.Clean("/" + rel)[1:]
	if clean != rel || clean == "" || strings.HasPrefix(clean, "../") || clean == ".." {
		return "", fmt.Errorf("object key %q does not map to a file under %s: skipped", rel, dir)
	}
	return filepath.Join(dir, filepath.FromSlash(clean)), nil
}

// uploadJobs are jobs uploading every local file under prefix.
func uploadJobs(files map[string]localFile, prefix string, rels []string, remote map[string]client.Object) []xferJob {
	var jobs []xferJob
	for _, rel := range rels {
		f := files[rel]
		j := xferJob{op: opUpload, local: f.path, key: prefix + rel, size: f.size, mtime: f.mtime}
		if o, ok := remote[rel]; ok {
			j.replaces = o.Size
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// downloadJobs are jobs downloading the objects named by rels into dir.
func (g *globals) downloadJobs(dir, prefix string, rels []string, remote map[string]client.Object) []xferJob {
	var jobs []xferJob
	for _, rel := range rels {
		p, err := localPathFor(dir, rel)
		if err != nil {
			g.note("%v", err)
			continue
		}
		jobs = append(jobs, xferJob{op: opDownload, local: p, key: prefix + rel, size: remote[rel].Size})
	}
	return jobs
}

// cpRecursive is `cp -r`: everything from a directory up, or from a prefix
// down, without comparing (sync compares).
func cpRecursive(ctx context.Context, g *globals, src, dst string, opts *xferOpts, from string) error {
	sres, sprefix, sfb, err := parseFB(src)
	if err != nil {
		return err
	}
	dres, dprefix, dfb, err := parseFB(dst)
	if err != nil {
		return err
	}
	if sfb == dfb {
		return fmt.Errorf("cp -r copies a local directory to fb://RESERVATION/PREFIX/ or back")
	}
	if dfb {
		if st, err := os.Stat(src); err != nil || !st.IsDir() {
			return fmt.Errorf("%s: not a directory (cp -r uploads a directory's contents)", src)
		}
		return runTree(ctx, g, treeSpec{local: src, res: dres, prefix: dirPrefix(dprefix), up: true}, opts, from, nil)
	}
	if st, err := os.Stat(dst); err == nil && !st.IsDir() {
		return fmt.Errorf("%s is a file: cp -r downloads into a directory", dst)
	}
	return runTree(ctx, g, treeSpec{local: dst, res: sres, prefix: dirPrefix(sprefix)}, opts, from, nil)
}

// treeSpec is one side of a tree transfer.
type treeSpec struct {
	local       string
	res, prefix string
	up          bool
	delete      bool
	dryRun      bool
}

// planFunc turns the two listings into jobs and the count of unchanged
// files; nil plans copying everything.
type planFunc func(local map[string]localFile, remote map[string]client.Object) ([]xferJob, int, error)

// runTree lists both sides, plans (plan nil: copy everything) and runs.
func runTree(ctx context.Context, g *globals, ts treeSpec, opts *xferOpts, from string, plan planFunc) error {
	perm := "read"
	if ts.up || ts.delete {
		perm = "write"
	}
	if !ts.up {
		if err := os.MkdirAll(ts.local, 0o755); err != nil {
			return err
		}
	}
	bi, err := g.openBucketInfo(ctx, ts.res, perm, from)
	if err != nil {
		return err
	}
	local, err := g.walkLocal(ts.local)
	if err != nil && !(errors.Is(err, fs.ErrNotExist) && !ts.up) {
		return err
	}
	remote, err := listRemote(ctx, bi.Bucket, ts.prefix)
	if err != nil {
		return err
	}
	var jobs []xferJob
	unchanged := 0
	switch {
	case plan != nil:
		jobs, unchanged, err = plan(local, remote)
	case ts.up:
		jobs = uploadJobs(local, ts.prefix, sortedKeys(local), remote)
	default:
		jobs = g.downloadJobs(ts.local, ts.prefix, sortedKeys(remote), remote)
	}
	if err != nil {
		return err
	}
	return g.runJobs(ctx, bi, jobs, unchanged, opts, ts.dryRun)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}
