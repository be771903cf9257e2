package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidateKey checks that key can be stored by every backend: non-empty, at
// most MaxStoredKeyLen bytes, valid UTF-8, no control characters (NUL, CR, LF...),
// not absolute, and no "." or ".." path segment.
func ValidateKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why) }
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxStoredKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxStoredKeyLen))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("absolute (starts with /)")
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f {
			if c == 0 {
				return bad("contains NUL")
			}
			return bad("contains a control character")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return bad("contains a \".\" or \"..\" path segment")
		}
	}
	return nil
}

// validatePrefix checks a List prefix or startAfter: like a key, but may be
// empty and may end anywhere.
func validateListArg(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxStoredKeyLen || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%w: bad list prefix or start-after %q", ErrInvalidKey, s)
	}
	return nil
}

// checkRange validates rng against an object of the given size and returns
// the clamped range (nil rng: nil).
func checkRange(rng *Range, size int64) (*Range, error) {
	if rng == nil {
		return nil, nil
	}
	if rng.Start < 0 || rng.End < rng.Start || rng.Start >= size {
		return nil, fmt.Errorf("%w: bytes=%d-%d of an object of %d bytes", ErrInvalidRange, rng.Start, rng.End, size)
	}
	r := *rng
	if r.End >= size {
		r.End = size - 1
	}
	return &r, nil
}

// checkRangeArg rejects ranges malformed independently of the object size.
func checkRangeArg(rng *Range) error {
	if rng != nil && (rng.Start < 0 || rng.End < rng.Start) {
		return fmt.Errorf("%w: bytes=%d-%d", ErrInvalidRange, rng.Start, rng.End)
	}
	return nil
}

func listLimit(limit int) int {
	if limit <= 0 {
		return defaultListLimit
	}
	return limit
}
