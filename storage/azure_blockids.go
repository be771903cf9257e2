package storage

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"time"
)

// Block ids of the Azure backend's multipart uploads (azure_uploads.go).
// Every block staged on an upload's staging blob names what it holds, so
// that the upload's parts can be rebuilt from Get Block List alone, with
// no other record: the part number, the attempt (a random nonce per
// PutUploadPart call, so that a part uploaded again, or a failed attempt,
// never mixes its blocks with another's) and the block's index in the
// part. A part's final block is its last byte alone, staged once all the
// other blocks are and the body ended where declared; its id also holds
// the part's MD5 and the time it was finished. A final block thus means a
// complete part (an attempt without one is ignored, and dropped at
// completion), and since it is part of the content it survives in the
// committed block list, so a completion that failed after committing the
// staging blob can be retried. An empty part has no content: a one-byte
// marker block, never committed, stands for it (and the staging blob's
// metadata lists the empty parts it committed, azMetaEmpty). Azure needs
// all block ids of a blob to have the same length: they are always
// azBlockIDLen bytes before base64.
const (
	azBlockIDLen   = 40
	azBlockIDMagic = 'F'
)

// Kinds of blocks.
const (
	azBlockData  byte = 0 // part content before the last byte
	azBlockFinal byte = 1 // a part's last byte: holds md5 and finish time
	azBlockEmpty byte = 2 // an empty part: 1 byte never committed
)

// azBlockID is a decoded block id.
type azBlockID struct {
	kind     byte
	num      int     // part number, 1..maxParts
	nonce    [8]byte // attempt
	index    int     // within the part, from 0
	finished int64   // final and empty blocks: unix nanoseconds
	md5      [16]byte
}

func (id azBlockID) String() string {
	var b [azBlockIDLen]byte
	b[0], b[1] = azBlockIDMagic, id.kind
	binary.BigEndian.PutUint16(b[2:], uint16(id.num))
	copy(b[4:12], id.nonce[:])
	binary.BigEndian.PutUint32(b[12:], uint32(id.index))
	binary.BigEndian.PutUint64(b[16:], uint64(id.finished))
	copy(b[24:], id.md5[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// parseAzBlockID decodes s; ok is false for ids this backend did not write.
func parseAzBlockID(s string) (azBlockID, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != azBlockIDLen || b[0] != azBlockIDMagic || b[1] > azBlockEmpty {
		return azBlockID{}, false
	}
	id := azBlockID{kind: b[1], num: int(binary.BigEndian.Uint16(b[2:])),
		index: int(binary.BigEndian.Uint32(b[12:])), finished: int64(binary.BigEndian.Uint64(b[16:]))}
	copy(id.nonce[:], b[4:12])
	copy(id.md5[:], b[24:])
	if id.num < 1 || id.num > maxParts {
		return azBlockID{}, false
	}
	return id, true
}

// azStagedPart is a complete part found in a staging blob's block list.
type azStagedPart struct {
	UploadPart
	blocks []string // ids to commit, in order (none for an empty part)
	final  string   // id of the final (or empty) block
}

// azAttempt gathers the blocks of one PutUploadPart call.
type azAttempt struct {
	final *azBlockID
	sizes map[int]int64 // data block index -> size
	ids   map[int]string
}

// azStagedParts rebuilds the complete parts from a block list (committed
// and uncommitted blocks alike): per part number, the complete attempt
// finished last wins.
func azStagedParts(names []string, sizes []int64) map[int]azStagedPart {
	attempts := map[[10]byte]*azAttempt{}
	for i, name := range names {
		id, ok := parseAzBlockID(name)
		if !ok {
			continue
		}
		var k [10]byte
		binary.BigEndian.PutUint16(k[:], uint16(id.num))
		copy(k[2:], id.nonce[:])
		a := attempts[k]
		if a == nil {
			a = &azAttempt{sizes: map[int]int64{}, ids: map[int]string{}}
			attempts[k] = a
		}
		if id.kind != azBlockData {
			a.final = &id
		}
		if id.kind != azBlockEmpty {
			a.sizes[id.index], a.ids[id.index] = sizes[i], name
		}
	}
	out := map[int]azStagedPart{}
	for _, a := range attempts {
		p, ok := a.part()
		if !ok {
			continue
		}
		if old, seen := out[p.Num]; seen && !laterAttempt(p, old) {
			continue
		}
		out[p.Num] = p
	}
	return out
}

// part is the attempt as a part, if it is final and has all its blocks.
func (a *azAttempt) part() (azStagedPart, bool) {
	f := a.final
	if f == nil {
		return azStagedPart{}, false
	}
	p := azStagedPart{UploadPart: UploadPart{Num: f.num, ETag: hex.EncodeToString(f.md5[:]),
		LastModified: time.Unix(0, f.finished).UTC()}, final: f.String()}
	if f.kind == azBlockEmpty {
		return p, true
	}
	for i := 0; i <= f.index; i++ {
		id, ok := a.ids[i]
		if !ok {
			return azStagedPart{}, false
		}
		p.blocks = append(p.blocks, id)
		p.Size += a.sizes[i]
	}
	return p, true
}

// laterAttempt orders two complete attempts of a part: finish time, then
// final block id (any fixed order will do for a tie).
func laterAttempt(a, b azStagedPart) bool {
	if !a.LastModified.Equal(b.LastModified) {
		return a.LastModified.After(b.LastModified)
	}
	return a.final > b.final
}

// sortedParts lists the parts by number.
func sortedParts(m map[int]azStagedPart) []UploadPart {
	out := make([]UploadPart, 0, len(m))
	for _, p := range m {
		out = append(out, p.UploadPart)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Num < out[j].Num })
	return out
}
