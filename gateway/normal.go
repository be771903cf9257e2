package gateway

import (
	"context"
	"sort"
	"strings"
)

// maxUTF8 sorts after every valid UTF-8 continuation of a name.
const maxUTF8 = "\U0010FFFF"

// listNormal lists a normal repository: each member is the folder
// "<reservation id>/", in folder order, so a listing walks the members one
// after the other, and at the root with delimiter "/" shows the folders as
// common prefixes (without asking the members).
func (g *Gateway) listNormal(ctx context.Context, r Repo, p page) ([]entry, bool, error) {
	ms := append([]Member(nil), r.Members...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	var out []entry
	lastCP := ""
	for i, m := range ms {
		f := m.ID + "/"
		if p.marker != "" && f+maxUTF8 <= p.marker {
			continue // wholly before the marker
		}
		var sub page
		switch {
		case strings.HasPrefix(p.prefix, f):
			sub.prefix = p.prefix[len(f):]
		case strings.HasPrefix(f, p.prefix):
			if p.delimiter != "" {
				if k := strings.Index(f[len(p.prefix):], p.delimiter); k >= 0 {
					cp := f[:len(p.prefix)+k+len(p.delimiter)]
					if cp != lastCP && cp > p.marker {
						if len(out) == p.max {
							return out, true, nil
						}
						out = append(out, entry{name: cp})
						lastCP = cp
					}
					continue
				}
			}
		default:
			continue
		}
		if len(out) == p.max {
			return out, true, nil
		}
		sub.delimiter = p.delimiter
		if strings.HasPrefix(p.marker, f) {
			sub.marker = p.marker[len(f):]
		}
		sub.max = p.max - len(out)
		es, trunc, err := g.listMembers(ctx, r, []Member{m}, sub, 1)
		if err != nil {
			return nil, false, err
		}
		for _, e := range es {
			e.name = f + e.name
			out = append(out, e)
		}
		if trunc {
			return out, true, nil
		}
		if len(out) == p.max && i < len(ms)-1 {
			return out, true, nil
		}
	}
	return out, false, nil
}
