package gateway

import "sync"

// partHashes remembers the whole-object SHA-256 of multipart copies, which
// a member's HEAD cannot give (their stored checksum is one of the parts'
// checksums), by member, key, ETag and size. Without it every repair scan
// re-read every multipart copy in full: egress the consumer pays for, on
// each member, every scan interval. A copy whose ETag or size changes is
// hashed again; bytes that rot under an unchanged ETag are what scrub
// (Config.Scrub) is for, which reads the bytes itself.
type partHashes struct {
	mu sync.Mutex
	m  map[partHashKey][]byte
}

type partHashKey struct {
	member, key, etag string
	size              int64
}

// maxPartHashes bounds the cache (about 150 bytes an entry); when full it
// starts over, which costs one more read of each multipart copy.
const maxPartHashes = 100_000

func (p *partHashes) get(k partHashKey) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[k]
}

func (p *partHashes) put(k partHashKey, sum []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxPartHashes {
		p.m = map[partHashKey][]byte{}
	}
	p.m[k] = sum
}
