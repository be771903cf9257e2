package storage

// A key segment names one file or directory; file names are limited to 255
// bytes, and every name carries a two-byte suffix. A longer segment (S3
// allows any, within the 1,024-byte key) is cut into pieces of at most
// maxSegment bytes: each piece but the last is a directory named
// PIECE.l ("the name goes on inside"), the last gets the segment's own
// suffix. So "a/<300 bytes>" is objects/a.d/<253 bytes>.l/<47 bytes>.o,
// which lists back as the same key; like every name it stays inside
// objects/.
//
// Listing order: the entries of a directory are walked by name, a
// continuation directory as its piece; keys under PIECE.l then come before
// keys under PIECE.d (PIECE + "/..."), which is S3's order unless the
// continuation starts with a byte below "/" — only keys sharing a
// 253-byte segment prefix with a directory of that exact name can see it.
const localLongSfx = ".l"

// appendSegment appends the path components of key segment s, the last
// one with suffix sfx.
func appendSegment(parts []string, s, sfx string) []string {
	for len(s) > maxSegment {
		parts = append(parts, s[:maxSegment]+localLongSfx)
		s = s[maxSegment:]
	}
	return append(parts, s+sfx)
}
