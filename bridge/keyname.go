package bridge

import (
	"strings"
)

// Object keys are stored under "<reservation>/" in the unit's backend.
// S3 keys may contain "." and ".." segments ("a/../b" is a key like any
// other), but a backend, an HTTP library or a proxy on the way may resolve
// them as paths, and "r1/../r2/x" would then name another reservation's
// object. So no dot segment ever reaches a backend: a segment made only of
// dots followed by any number of "~" gets one more "~" ("." -> ".~",
// ".." -> "..~", "..~" -> "..~~"), and listing takes it off again. The
// mapping is one-to-one, changes no other key, and leaves every stored key
// free of "." and ".." segments, whatever the backend.
//
// Listing order follows the stored keys, so a key with such a segment may
// sort a little differently from S3 ("x/../y" after "x/..a", where S3 puts
// it before); nothing else is affected.

// encodeKey maps a client key (or a marker) to its stored form.
func encodeKey(k string) string {
	if !strings.Contains(k, ".") {
		return k
	}
	segs := strings.Split(k, "/")
	for i, s := range segs {
		if dotSegment(s) {
			segs[i] = s + "~"
		}
	}
	return strings.Join(segs, "/")
}

// encodePrefix maps a listing prefix: its complete segments like a key's;
// the last one, which stored keys may continue, as it is (the listing then
// checks the decoded keys against the prefix).
func encodePrefix(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return p
	}
	return encodeKey(p[:i]) + p[i:]
}

// decodeKey undoes encodeKey.
func decodeKey(k string) string {
	if !strings.Contains(k, ".~") {
		return k
	}
	segs := strings.Split(k, "/")
	for i, s := range segs {
		if dotSegment(s) && strings.HasSuffix(s, "~") {
			segs[i] = s[:len(s)-1]
		}
	}
	return strings.Join(segs, "/")
}

// dotSegment says whether s is one or more dots followed by zero or more
// "~".
func dotSegment(s string) bool {
	i := 0
	for i < len(s) && s[i] == '.' {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '~' {
			return false
		}
	}
	return true
}

// name is the client key of a stored key of the reservation (for errors:
// they never show the reservation prefix).
func (r bucketRef) name(bkey string) string {
	return decodeKey(strings.TrimPrefix(bkey, r.res.ID+"/"))
}
