package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Running many transfers: opts.files at a time, one progress line for all
// of them (files done of total, bytes), one output line per action.

const (
	opUpload       = "upload"
	opDownload     = "download"
	opDeleteRemote = "delete"
	opDeleteLocal  = "delete-local"
)

type xferJob struct {
	op       string
	local    string // the local file
	key      string // the object key
	size     int64
	mtime    int64 // uploads: the local file's mtime (ns)
	replaces int64 // uploads: the size of the object it overwrites
}

// treeOut is what cp -r and sync print with -o json.
type treeOut struct {
	Transfers  []transferOut `json:"transfers"`
	Uploaded   int           `json:"uploaded"`
	Downloaded int           `json:"downloaded"`
	Deleted    int           `json:"deleted"`
	Unchanged  int           `json:"unchanged"`
	Bytes      int64         `json:"bytes"`
	Failed     []string      `json:"failed,omitempty"`
	DryRun     bool          `json:"dry_run,omitempty"`
}

func sortStrings(s []string) { sort.Strings(s) }

// runJobs checks the quota for the uploads, then runs the transfers and,
// only if they all succeeded, the deletions (a sync --delete whose uploads
// failed must not remove anything). A failed job does not stop the
// others; the command fails at the end.
func (g *globals) runJobs(ctx context.Context, bi *bucketInfo, jobs []xferJob, unchanged int, opts *xferOpts, dryRun bool) error {
	out := &treeOut{Transfers: []transferOut{}, Unchanged: unchanged, DryRun: dryRun}
	var transfers, deletes []xferJob
	for _, j := range jobs {
		if j.op == opDeleteRemote || j.op == opDeleteLocal {
			deletes = append(deletes, j)
		} else {
			transfers = append(transfers, j)
		}
	}
	if !dryRun {
		if err := g.checkQuota(ctx, bi, g.quotaNeedOf(bi.Name, transfers, opts)); err != nil {
			return err
		}
	}
	bar := newProgress(fmt.Sprintf("0/%d files", len(jobs)))
	r := &jobRunner{g: g, bi: bi, opts: opts, dryRun: dryRun, out: out, bar: bar, count: len(jobs)}
	for _, j := range transfers {
		r.total += j.size
	}
	r.run(ctx, transfers)
	if len(out.Failed) == 0 {
		r.run(ctx, deletes)
	} else if len(deletes) > 0 {
		out.Failed = append(out.Failed, fmt.Sprintf("%d deletions skipped: transfers failed", len(deletes)))
	}
	bar.finish(len(out.Failed) == 0 && len(jobs) > 0)
	sort.Slice(out.Transfers, func(i, k int) bool { return out.Transfers[i].URL < out.Transfers[k].URL })
	if err := g.print(out, func(w io.Writer) { out.summary(w) }); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w (run the same command again to finish)", err)
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("%d of %d jobs failed; the first: %s", len(out.Failed), len(jobs), out.Failed[0])
	}
	return nil
}

// quotaNeed is what the uploads among jobs add to the bucket.
func (g *globals) quotaNeedOf(res string, jobs []xferJob, opts *xferOpts) quotaNeed {
	need := quotaNeed{resuming: map[string]bool{}}
	for _, j := range jobs {
		if j.op != opUpload {
			continue
		}
		need.bytes += j.size
		if j.size <= opts.threshold {
			need.bytes -= j.replaces // a single PUT over an object is charged the difference
		} else if abs, err := filepath.Abs(j.local); err == nil {
			if id := g.pendingUploadOf(res, j.key, abs, j.size, j.mtime); id != "" {
				need.resuming[id] = true
			}
		}
	}
	return need
}

// jobRunner runs jobs opts.files at a time, drawing one progress line and
// printing one line per job done.
type jobRunner struct {
	g      *globals
	bi     *bucketInfo
	opts   *xferOpts
	dryRun bool
	out    *treeOut
	bar    *progressBar
	count  int
	total  int64

	mu          sync.Mutex
	done, bytes atomic.Int64
}

func (r *jobRunner) run(ctx context.Context, jobs []xferJob) {
	eg := errgroup.Group{}
	eg.SetLimit(r.opts.files)
	for _, j := range jobs {
		if ctx.Err() != nil {
			break // interrupted: what is left is not started
		}
		eg.Go(func() error {
			t, err := r.g.runJob(ctx, r.bi, j, r.opts, r.dryRun, func(n int64) { r.bar.update(r.bytes.Add(n), r.total) })
			r.mu.Lock()
			defer r.mu.Unlock()
			r.bar.setLabel(fmt.Sprintf("%d/%d files", r.done.Add(1), r.count))
			if err != nil {
				if ctx.Err() == nil {
					r.out.Failed = append(r.out.Failed, fmt.Sprintf("%s: %v", j.key, err))
				}
				return nil
			}
			r.out.add(t)
			if r.g.output != "json" {
				r.bar.clearLine()
				fmt.Fprintln(r.g.out, t.line(r.dryRun))
			}
			return nil
		})
	}
	_ = eg.Wait()
}

func (o *treeOut) add(t transferOut) {
	o.Transfers = append(o.Transfers, t)
	switch t.Action {
	case opUpload:
		o.Uploaded++
		o.Bytes += t.Bytes
	case opDownload:
		o.Downloaded++
		o.Bytes += t.Bytes
	default:
		o.Deleted++
	}
}

func (o *treeOut) summary(w io.Writer) {
	verb := ""
	if o.DryRun {
		verb = "would have "
	}
	fmt.Fprintf(w, "%suploaded %d, downloaded %d, deleted %d (%s); %d unchanged", verb, o.Uploaded, o.Downloaded, o.Deleted, bytesHuman(uint64(o.Bytes)), o.Unchanged)
	if len(o.Failed) > 0 {
		fmt.Fprintf(w, "; %d failed:", len(o.Failed))
		for _, f := range o.Failed {
			fmt.Fprintf(w, "\n  %s", f)
		}
	}
	fmt.Fprintln(w)
}

func (t transferOut) line(dryRun bool) string {
	pre := ""
	if dryRun {
		pre = "(dry run) "
	}
	switch t.Action {
	case opUpload:
		return fmt.Sprintf("%supload %s → %s  (%s)%s", pre, t.File, t.URL, bytesHuman(uint64(t.Bytes)), t.Multipart.note())
	case opDownload:
		return fmt.Sprintf("%sdownload %s → %s  (%s)", pre, t.URL, t.File, bytesHuman(uint64(t.Bytes)))
	case opDeleteLocal:
		return fmt.Sprintf("%sdelete %s", pre, t.File)
	}
	return fmt.Sprintf("%sdelete %s", pre, t.URL)
}

func (s *resumeStats) note() string {
	if s == nil || !s.Resume {
		return ""
	}
	return fmt.Sprintf(", resumed: %d of %d parts were at the bridge, %d sent", s.Resumed, s.Parts, s.Sent)
}

// runJob does one job (nothing, with dryRun).
func (g *globals) runJob(ctx context.Context, bi *bucketInfo, j xferJob, opts *xferOpts, dryRun bool, prog func(int64)) (transferOut, error) {
	t := transferOut{URL: fbURL(bi.Name, j.key), File: j.local, Bytes: j.size, Action: j.op}
	if dryRun {
		return t, nil
	}
	switch j.op {
	case opUpload:
		r, err := g.uploadFile(ctx, bi.Bucket, j.key, j.local, j.size, opts, prog)
		if err != nil {
			return t, err
		}
		t.Bytes, t.ETag, t.Receipt, t.Multipart = r.obj.Size, r.obj.ETag, r.receipt, r.stats
	case opDownload:
		if err := os.MkdirAll(filepath.Dir(j.local), 0o755); err != nil {
			return t, err
		}
		var last int64
		o, err := bi.DownloadFile(ctx, j.key, j.local, func(d, _ int64) { prog(d - last); last = d })
		if err != nil {
			return t, s3Explain(err, bi.Bucket, j.key)
		}
		t.Bytes, t.ETag = o.Size, o.ETag
	case opDeleteRemote:
		d, err := bi.Remove(ctx, j.key)
		if err != nil {
			return t, s3Explain(err, bi.Bucket, j.key)
		}
		receiptMu.Lock()
		t.Receipt, err = g.keepReceipt(t.URL, d.Receipt, d.ReceiptProblem)
		receiptMu.Unlock()
		return t, err
	case opDeleteLocal:
		if err := os.Remove(j.local); err != nil && !errors.Is(err, os.ErrNotExist) {
			return t, err
		}
	}
	return t, nil
}
