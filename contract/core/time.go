package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Time is a point in BFT block time, in unix seconds, the unit all contract
// arithmetic uses. In JSON (queries, the REST API and stored records) it is
// an RFC 3339 UTC string such as "2026-12-01T21:45:10Z"; the zero Time, "not
// yet" (a pending reservation's start, an epoch without a snapshot), is null,
// and fields tagged omitempty leave it out. Decoding also takes a JSON number
// of unix seconds, the encoding of records written before Time existed.
//
// Durations (term_seconds, accept_timeout, ...) and epochs stay plain
// integers, and so do tx message fields (their signed encoding is canonical).
type Time int64

// MaxTime is the last second RFC 3339 can write, 9999-12-31T23:59:59Z: the
// latest time a tx may name.
const MaxTime Time = 253402300799

// Unix is t in unix seconds.
func (t Time) Unix() int64 { return int64(t) }

// IsZero reports whether t is unset.
func (t Time) IsZero() bool { return t == 0 }

// UTC is t as a time.Time in UTC.
func (t Time) UTC() time.Time { return time.Unix(int64(t), 0).UTC() }

// String is t in RFC 3339 UTC, or "-" when zero.
func (t Time) String() string {
	if t == 0 {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// MarshalJSON writes an RFC 3339 UTC string, or null for the zero Time. A
// time outside the years 0000-9999, which RFC 3339 cannot write (block time
// never gets there, but a tx may name one), is written as unix seconds, so
// that every Time decodes back to itself.
func (t Time) MarshalJSON() ([]byte, error) {
	if t == 0 {
		return []byte("null"), nil
	}
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return strconv.AppendInt(nil, int64(t), 10), nil
	}
	b := make([]byte, 0, len(time.RFC3339)+2)
	b = append(b, '"')
	b = u.AppendFormat(b, time.RFC3339)
	return append(b, '"'), nil
}

// UnmarshalJSON reads an RFC 3339 string (any offset), a JSON number of unix
// seconds (legacy records) or null (zero).
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = 0
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseTime(s)
		if err != nil {
			return err
		}
		*t = v
		return nil
	default:
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("time must be an RFC 3339 string or unix seconds, not %s", b)
		}
		*t = Time(n)
		return nil
	}
}

// ParseTime reads an RFC 3339 time such as 2026-12-01T21:45:10Z; fractions
// of a second are truncated.
func ParseTime(s string) (Time, error) {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("time %q is not RFC 3339 (e.g. 2026-12-01T21:45:10Z)", s)
	}
	return Time(v.Unix()), nil
}
