package storage

import (
	"strings"
)

// normMeta copies user metadata with lower-cased keys, dropping the keys
// reserved by this package (nil when empty).
func normMeta(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		lk := strings.ToLower(k)
		if lk == metaETag {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[lk] = v
	}
	return out
}

// Reserved user-metadata keys some backends use to carry what they cannot
// store natively; hidden from ObjectInfo.UserMeta.
const (
	metaETag = "flashback-etag"
)

// splitMeta removes the reserved keys from backend metadata, returning the
// user metadata and the stored ETag, if any.
func splitMeta(m map[string]string) (map[string]string, string) {
	var etag string
	var out map[string]string
	for k, v := range m {
		lk := strings.ToLower(k)
		if lk == metaETag {
			etag = v
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[lk] = v
	}
	return out, etag
}
