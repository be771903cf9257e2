package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// writeIDMeta is the user metadata (x-amz-meta-fb-write) each member's
// copy carries: the id of the write that stored it, by which a restarted
// gateway tells which members hold an unresolved write. It is not shown
// to clients.
const writeIDMeta = "fb-write"

// fanWrite is one streamed write to several members.
type fanWrite struct {
	members []Member
	quorum  int
	key     string
	query   func(Member) url.Values // nil for objects; the part's query for parts
	hdr     http.Header
	body    io.Reader
	size    int64
}

// fanResult is the outcome: the stored SHA-256 (base64), the members
// that acknowledged it, and those that did not.
type fanResult struct {
	sum    string
	acked  []streamResult
	missed []streamResult
}

// stream runs a fanWrite: every member gets the body at once; it fails if
// fewer than the quorum acknowledged the SHA-256 the gateway computed.
func (g *Gateway) stream(ctx context.Context, w fanWrite) (fanResult, error) {
	ids := make([]string, len(w.members))
	for i, m := range w.members {
		ids[i] = m.ID
	}
	f := newFanout(ids, g.cfg.StallTimeout)
	results := make([]streamResult, len(w.members))
	var wg sync.WaitGroup
	for i, m := range w.members {
		mc := g.clients.get(m)
		l := f.lanes[i]
		lctx, cancel := context.WithCancel(ctx)
		l.cancel = cancel
		var q url.Values
		if w.query != nil {
			q = w.query(m)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			results[i] = mc.putStream(lctx, w.key, q, w.hdr.Clone(), w.size, l)
			if results[i].err != nil && ctx.Err() == nil && !isClientError(results[i].err) {
				g.health.observe(m.ID, 0, true) // reads avoid a failing member too
			} else if results[i].err == nil {
				g.health.answered(m.ID) // a member back from failing resumes repair
			}
			l.finish()
		}()
	}
	sum, ferr := f.run(ctx, w.body, w.size, w.quorum)
	if ferr != nil {
		for _, l := range f.lanes {
			l.drop()
		}
	}
	wg.Wait()
	res := fanResult{sum: sum}
	for _, r := range results {
		if r.err == nil && ferr == nil && r.sha256 == sum {
			res.acked = append(res.acked, r)
			continue
		}
		if r.err == nil {
			r.err = fmt.Errorf("member %s stored checksum %q, want %q", r.member, r.sha256, sum)
		}
		res.missed = append(res.missed, r)
	}
	if ferr != nil {
		return res, clientWriteError(ferr, res.missed)
	}
	if len(res.acked) < w.quorum {
		return res, clientWriteError(errNoQuorum, res.missed)
	}
	return res, nil
}

// clientWriteError is the S3 error for a failed write: the client's own
// (a short body), what every member refused it for (QuotaExceeded,
// EntityTooLarge…), else 503.
func clientWriteError(err error, missed []streamResult) error {
	if errors.Is(err, errIncompleteBody) {
		return s3err.GetAPIError(s3err.ErrIncompleteBody)
	}
	var se s3err.APIError
	if errors.As(err, &se) {
		return se
	}
	code := ""
	var me *memberError
	for i, r := range missed {
		if !errors.As(r.err, &me) || !isClientError(r.err) || (i > 0 && me.Code != code) {
			code = ""
			break
		}
		code = me.Code
	}
	if code != "" {
		return apiErr(code, me.Status, me.Message)
	}
	msg := []string{}
	for _, r := range missed {
		msg = append(msg, r.err.Error())
	}
	return unavailable("The write did not reach the repository's write quorum: " + strings.Join(msg, "; "))
}

// objectHeaders are the headers a member upload carries from the client's.
func objectHeaders(ctype, cache, disp, lang, expires, tagging *string, meta map[string]string, writeID string) http.Header {
	h := http.Header{}
	set := func(k string, v *string) {
		if v != nil && *v != "" {
			h.Set(k, *v)
		}
	}
	set("Content-Type", ctype)
	set("Cache-Control", cache)
	set("Content-Disposition", disp)
	set("Content-Language", lang)
	set("Expires", expires)
	set("X-Amz-Tagging", tagging)
	for k, v := range meta {
		if !strings.EqualFold(k, writeIDMeta) {
			h.Set("X-Amz-Meta-"+k, v)
		}
	}
	if writeID != "" {
		h.Set("X-Amz-Meta-"+writeIDMeta, writeID)
	}
	return h
}

func (b *backend) PutObject(ctx context.Context, in s3response.PutObjectInput) (s3response.PutObjectOutput, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	t, err := b.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	if in.ContentLength == nil || *in.ContentLength < 0 {
		return s3response.PutObjectOutput{}, s3err.GetAPIError(s3err.ErrMissingContentLength)
	}
	writers := writersOf(t)
	if len(writers) == 0 {
		return s3response.PutObjectOutput{}, unavailable("The repository has no member taking writes.")
	}
	id := randHex(16)
	w := fanWrite{
		members: writers, quorum: t.repo.quorum(len(writers)), key: t.key,
		hdr:  objectHeaders(in.ContentType, in.CacheControl, in.ContentDisposition, in.ContentLanguage, in.Expires, in.Tagging, in.Metadata, id),
		body: in.Body, size: *in.ContentLength,
	}
	if w.body == nil {
		w.body = http.NoBody
	}
	if t.repo.Encrypted {
		if err := b.g.encSealed(ctx, t, &w); err != nil {
			return s3response.PutObjectOutput{}, err
		}
	}
	res, err := b.g.committed(ctx, t, w, id)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	out := s3response.PutObjectOutput{ETag: res.acked[0].etag, Size: in.ContentLength, ChecksumSHA256: &res.sum}
	if t.repo.Encrypted {
		out.ChecksumSHA256 = nil // the ciphertext's: meaningless to the client
	}
	return out, nil
}

// writersOf returns the members of t that take writes.
func writersOf(t target) []Member {
	var out []Member
	for _, m := range t.members {
		if m.writable() {
			out = append(out, m)
		}
	}
	return out
}

// committed runs a write that becomes visible on the members (a PUT, a
// multipart completion is similar) under an intent: the intent is on disk
// before the first byte goes out and is cleared once the write is
// resolved: at quorum, the members that missed it are queued for repair;
// below quorum, it is deleted from the members that stored it.
func (g *Gateway) committed(ctx context.Context, t target, w fanWrite, id string) (fanResult, error) {
	it := Intent{WriteID: id, Time: time.Now().UTC(), Repo: t.repo.Name, Key: t.key, Quorum: w.quorum}
	for _, m := range w.members {
		it.Members = append(it.Members, m.ID)
	}
	if err := g.intents.put(it); err != nil {
		return fanResult{}, unavailable(err.Error())
	}
	done := g.track(id)
	defer done()
	res, err := g.stream(ctx, w)
	if err != nil {
		g.undo(it)
		return res, err
	}
	g.queueMissed(t.repo.Name, t.key, res.missed, RepairPut)
	if cerr := g.intents.clear(id); cerr != nil {
		g.cfg.Logf("gateway: clearing intent %s: %v", id, cerr)
	}
	return res, nil
}

func (g *Gateway) queueMissed(repo, key string, missed []streamResult, op string) {
	var recs []RepairRecord
	for _, r := range missed {
		recs = append(recs, RepairRecord{Repo: repo, Member: r.member, Key: key, Op: op, Reason: r.err.Error()})
	}
	if err := g.repair.Append(recs...); err != nil {
		g.cfg.Logf("gateway: repair queue: %v", err)
	}
}

// undo removes a failed write from every member that holds it; the intent
// stays on disk (for the next start) if a member could not be checked.
func (g *Gateway) undo(it Intent) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	repo, err := g.dir.Repo(ctx, it.Repo)
	if err != nil {
		g.cfg.Logf("gateway: undoing write %s: %v", it.WriteID, err)
		return
	}
	has, unknown := g.holders(ctx, repo, it)
	for _, m := range has {
		if _, err := g.clients.get(m).s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(m.ID), Key: aws.String(it.Key)}); err != nil {
			unknown++
		}
	}
	if unknown == 0 {
		g.intents.clear(it.WriteID)
	}
}

// holders returns the members of an intent whose copy of its key carries
// its write id, and how many members could not be asked.
func (g *Gateway) holders(ctx context.Context, repo Repo, it Intent) ([]Member, int) {
	var (
		mu      sync.Mutex
		has     []Member
		unknown int
		wg      sync.WaitGroup
	)
	for _, id := range it.Members {
		m, ok := repo.member(id)
		if !ok {
			continue // no longer a member: nothing of it is served
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := g.clients.get(m).s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(m.ID), Key: aws.String(it.Key)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && out.Metadata[writeIDMeta] == it.WriteID:
				has = append(has, m)
			case err == nil || isNotFound(err):
			default:
				unknown++
			}
		}()
	}
	wg.Wait()
	return has, unknown
}

// recover resolves what a previous run left: its write intents and its
// stale multipart uploads.
func (g *Gateway) recover(ctx context.Context) error {
	if err := g.ResolveIntents(ctx); err != nil {
		return err
	}
	return g.recoverUploads(ctx)
}

// ResolveIntents resolves the recorded write intents that are not in
// progress in this process (New calls it for those a killed run left): a
// write held by at least its quorum stands and the other members are
// queued for repair; one below quorum is deleted where it landed. Intents
// some of whose members cannot be reached stay; call it again later (the
// repair loop does, once per pass).
func (g *Gateway) ResolveIntents(ctx context.Context) error {
	its, err := g.intents.list()
	if err != nil {
		return fmt.Errorf("gateway: reading intents: %w", err)
	}
	for _, it := range its {
		if g.inFlight(it.WriteID) {
			continue
		}
		repo, err := g.dir.Repo(ctx, it.Repo)
		if err != nil {
			g.cfg.Logf("gateway: intent %s: repository %s: %v", it.WriteID, it.Repo, err)
			continue
		}
		has, unknown := g.holders(ctx, repo, it)
		if len(has) >= it.Quorum {
			held := map[string]bool{}
			for _, m := range has {
				held[m.ID] = true
			}
			var missed []streamResult
			for _, id := range it.Members {
				if !held[id] {
					missed = append(missed, streamResult{member: id, err: errors.New("write interrupted by a gateway restart")})
				}
			}
			g.queueMissed(it.Repo, it.Key, missed, RepairPut)
			g.intents.clear(it.WriteID)
			continue
		}
		if len(has)+unknown >= it.Quorum {
			continue // cannot tell yet
		}
		g.undo(it)
	}
	return nil
}

// track marks a write id as in progress in this process until done is
// called, so ResolveIntents leaves its intent alone.
func (g *Gateway) track(id string) (done func()) {
	g.live.Lock()
	if g.live.ids == nil {
		g.live.ids = map[string]bool{}
	}
	g.live.ids[id] = true
	g.live.Unlock()
	return func() {
		g.live.Lock()
		delete(g.live.ids, id)
		g.live.Unlock()
	}
}

func (g *Gateway) inFlight(id string) bool {
	g.live.Lock()
	defer g.live.Unlock()
	return g.live.ids[id]
}
