package market

import (
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/contract/core"
)

// Unit ids are "unit-N", reservation ids "res-N" (N from 1, sequential).
// Both are valid S3 bucket names.
const (
	unitIDPrefix = "unit-"
	resIDPrefix  = "res-"
)

// UnitIDString is the id of unit n, "unit-n".
func UnitIDString(n uint64) string { return unitIDPrefix + strconv.FormatUint(n, 10) }

// ResIDString is the id of reservation n, "res-n".
func ResIDString(n uint64) string { return resIDPrefix + strconv.FormatUint(n, 10) }

func parseID(s, prefix, what string) (uint64, error) {
	if !strings.HasPrefix(s, prefix) {
		return 0, core.Errf(core.CodeInvalidMessage, "%s id %q must look like %s1", what, s, prefix)
	}
	d := s[len(prefix):]
	n, err := strconv.ParseUint(d, 10, 64)
	if err != nil || n == 0 || (len(d) > 1 && d[0] == '0') {
		return 0, core.Errf(core.CodeInvalidMessage, "%s id %q must look like %s1", what, s, prefix)
	}
	return n, nil
}

// ParseUnitID reads n of a unit id "unit-n".
func ParseUnitID(s string) (uint64, error) { return parseID(s, unitIDPrefix, "unit") }

// ParseResID reads n of a reservation id "res-n".
func ParseResID(s string) (uint64, error) { return parseID(s, resIDPrefix, "reservation") }

// ResNumber is the number of reservation id: parsed, when ValidateBasic
// (which DecodeMsg runs) already parsed it, else parsed now (a message
// built in code and handled without DecodeMsg).
func ResNumber(parsed uint64, id string) (uint64, error) {
	if parsed != 0 {
		return parsed, nil
	}
	return ParseResID(id)
}

// UnitNumber is ResNumber for a unit id.
func UnitNumber(parsed uint64, id string) (uint64, error) {
	if parsed != 0 {
		return parsed, nil
	}
	return ParseUnitID(id)
}
