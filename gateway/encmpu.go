package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/objcrypt"
	"github.com/versity/versitygw/s3err"
)

// tails is the directory keeping the ciphertext of an upload's parts under
// encMinPart (encindex.go says why).
func (u *uploads) tails(id string) string { return filepath.Join(u.dir, id+".tails") }

func (u *uploads) tailPath(id string, n int32) string {
	return filepath.Join(u.tails(id), strconv.Itoa(int(n)))
}

// sealedPart is an encrypted part on its way to the members.
type sealedPart struct {
	u     *uploads
	id    string
	n     int32
	plain int64
	hdr   headCapture
	tmp   *os.File // the ciphertext of a small part, or nil
}

// headCapture keeps the first HeaderSize bytes read through it.
type headCapture struct {
	r   io.Reader
	hdr []byte
}

func (h *headCapture) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if need := objcrypt.HeaderSize - len(h.hdr); need > 0 {
		h.hdr = append(h.hdr, p[:min(n, need)]...)
	}
	return n, err
}

// sealPart makes w carry part n's ciphertext (an objcrypt stream of its own).
func (g *Gateway) sealPart(ctx context.Context, t target, rec mpu, n int32, w *fanWrite) (*sealedPart, error) {
	if n >= indexPart {
		return nil, apiErr("InvalidArgument", 400, fmt.Sprintf("Part numbers of encrypted uploads go up to %d (%d carries the part index).", indexPart-1, indexPart))
	}
	mk, err := g.masterKey(ctx, t.repo)
	if err != nil {
		return nil, err
	}
	body, size, err := sealBody(mk, partName(encName(t), rec.ID, n), w.body, w.size)
	if err != nil {
		return nil, unavailable(err.Error())
	}
	sp := &sealedPart{u: g.uploads, id: rec.ID, n: n, plain: w.size, hdr: headCapture{r: body}}
	w.body, w.size = &sp.hdr, size
	if size < encMinPart {
		if err := os.MkdirAll(g.uploads.tails(rec.ID), 0o700); err != nil {
			return nil, unavailable(err.Error())
		}
		if sp.tmp, err = os.CreateTemp(g.uploads.tails(rec.ID), "tmp-*"); err != nil {
			return nil, unavailable(err.Error())
		}
		w.body = io.TeeReader(&sp.hdr, sp.tmp)
	}
	return sp, nil
}

// keep records the part in the upload (under its lock) once the members
// took it.
func (sp *sealedPart) keep(rec *mpu) error {
	if len(sp.hdr.hdr) != objcrypt.HeaderSize {
		return fmt.Errorf("part %d: no header sealed", sp.n)
	}
	if sp.tmp != nil {
		if err := sp.tmp.Sync(); err != nil {
			return err
		}
		if err := os.Rename(sp.tmp.Name(), sp.u.tailPath(sp.id, sp.n)); err != nil {
			return err
		}
	} else {
		os.Remove(sp.u.tailPath(sp.id, sp.n)) // a smaller earlier upload of this part
	}
	if rec.Enc == nil {
		rec.Enc = map[int32]encPartRec{}
	}
	rec.Enc[sp.n] = encPartRec{Plain: sp.plain, Header: sp.hdr.hdr}
	return nil
}

func (sp *sealedPart) cleanup() {
	if sp.tmp != nil {
		sp.tmp.Close()
		os.Remove(sp.tmp.Name()) // gone already if kept
	}
}

// encIndexPart writes the part index of a completing encrypted upload to
// its members as part indexPart (joined with the last part when that one
// is under encMinPart) and returns the member parts to complete with.
func (g *Gateway) encIndexPart(ctx context.Context, t target, rec *mpu, ms []Member, listed []types.CompletedPart) ([]types.CompletedPart, error) {
	mk, err := g.masterKey(ctx, t.repo)
	if err != nil {
		return nil, err
	}
	es := make([]idxEntry, len(listed))
	for i, p := range listed {
		e, ok := rec.Enc[deref(p.PartNumber)]
		if !ok {
			return nil, s3err.GetAPIError(s3err.ErrInvalidPart)
		}
		es[i] = idxEntry{n: deref(p.PartNumber), plain: e.Plain, hdr: e.Header}
	}
	idx, err := sealIndex(mk, encName(t), rec.ID, es)
	if err != nil {
		return nil, unavailable(err.Error())
	}
	last := es[len(es)-1]
	members := append([]types.CompletedPart(nil), listed...)
	if objcrypt.CiphertextSize(last.plain, 0) < encMinPart {
		tail, err := os.ReadFile(g.uploads.tailPath(rec.ID, last.n))
		if err != nil {
			return nil, unavailable("The upload's last part is not in the gateway's state: " + err.Error())
		}
		idx = append(tail, idx...)
		members = members[:len(members)-1]
	}
	w := fanWrite{members: ms, quorum: rec.Quorum, key: t.key, body: bytes.NewReader(idx), size: int64(len(idx)),
		query: func(m Member) url.Values {
			return url.Values{"partNumber": {strconv.Itoa(indexPart)}, "uploadId": {rec.Members[m.ID]}}
		},
	}
	res, err := g.stream(ctx, w)
	if err != nil {
		return nil, err
	}
	got := map[string]mpuPart{}
	for _, r := range res.acked {
		got[r.member] = mpuPart{ETag: r.etag, SHA256: r.sha256, Size: int64(len(idx))}
	}
	rec.Parts[indexPart] = got
	return append(members, types.CompletedPart{PartNumber: aws.Int32(indexPart)}), nil
}
