// The query-string parameters of the list endpoints.

package api

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// A queryParam checks one query-string parameter of a list endpoint and
// returns it in the form the contract reads. The tables below are what
// api/spec/market.json documents.
type queryParam func(v string) (string, error)

var (
	accessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,32}$`)
	unitIDPattern      = regexp.MustCompile(`^unit-[1-9][0-9]{0,19}$`)
	resIDPattern       = regexp.MustCompile(`^res-[1-9][0-9]{0,19}$`)
	hexPattern         = regexp.MustCompile(`^[0-9a-f]+$`)
)

func pLimit(v string) (string, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > market.MaxPageSize {
		return "", fmt.Errorf("must be an integer from 1 to %d", market.MaxPageSize)
	}
	return strconv.Itoa(n), nil
}

func pCursor(v string) (string, error) {
	if len(v) > 512 || !hexPattern.MatchString(v) || len(v)%2 != 0 {
		return "", fmt.Errorf("is not a cursor this API returned (pass next_cursor unchanged)")
	}
	return v, nil
}

func pAddress(v string) (string, error) {
	raw, err := address.Parse(v)
	if err != nil {
		return "", fmt.Errorf("is not an fb1… address: %v", err)
	}
	return address.Encode(raw), nil
}

func pPattern(re *regexp.Regexp, example string) queryParam {
	return func(v string) (string, error) {
		if !re.MatchString(v) {
			return "", fmt.Errorf("must look like %s", example)
		}
		return v, nil
	}
}

func pEnum(values ...string) queryParam {
	return func(v string) (string, error) {
		for _, x := range values {
			if v == x {
				return v, nil
			}
		}
		return "", fmt.Errorf("must be one of %s", strings.Join(values, ", "))
	}
}

func pText(max int) queryParam {
	return func(v string) (string, error) {
		if v == "" || len(v) > max {
			return "", fmt.Errorf("must be 1 to %d characters", max)
		}
		return v, nil
	}
}

func pCountry(v string) (string, error) {
	u := strings.ToUpper(v)
	if len(u) != 2 || u[0] < 'A' || u[0] > 'Z' || u[1] < 'A' || u[1] > 'Z' {
		return "", fmt.Errorf("must be an ISO 3166 alpha-2 code such as DE")
	}
	return u, nil
}

// pSize takes bytes as digits or with a unit (10GiB, 1.5TB).
func pSize(positive bool) queryParam {
	return func(v string) (string, error) {
		n, err := market.ParseSize(v)
		if err != nil || (positive && n <= 0) {
			return "", fmt.Errorf("must be a byte count such as 1073741824 or 10GiB")
		}
		return strconv.FormatInt(n, 10), nil
	}
}

// pDuration takes seconds as digits or with a unit (30d, 12h, 1mo).
func pDuration(v string) (string, error) {
	n, err := market.ParseDuration(v)
	if err != nil || n <= 0 {
		return "", fmt.Errorf("must be a positive duration such as 2592000 or 30d")
	}
	return strconv.FormatInt(n, 10), nil
}

func pAmount(v string) (string, error) {
	a, err := core.ParseAmount(v)
	if err != nil {
		return "", fmt.Errorf("must be a decimal string of uflash: %v", err)
	}
	return a.String(), nil
}

func pIntRange(lo, hi int) queryParam {
	return func(v string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return "", fmt.Errorf("must be an integer from %d to %d", lo, hi)
		}
		return strconv.Itoa(n), nil
	}
}

func pBool(v string) (string, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return "", fmt.Errorf("must be true or false")
	}
	return strconv.FormatBool(b), nil
}

var (
	providersParams = map[string]queryParam{"limit": pLimit, "cursor": pCursor, "all": pBool}
	unitsParams     = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor,
		"region": pText(64), "country": pCountry, "kind": pEnum(market.UnitKinds()...),
		"status":   pEnum(market.UnitAvailable, market.UnitMaintenance, market.UnitDecommissioning, market.UnitDeleted),
		"provider": pAddress, "min_free": pSize(false), "max_price": pAmount, "min_score": pIntRange(0, 100),
		"sort": pEnum("id", "price", "score"),
	}
	reservationsParams = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor,
		"consumer": pAddress, "provider": pAddress, "unit": pPattern(unitIDPattern, "unit-1"),
		"status": pEnum(market.ResPending, market.ResActive, market.ResCompleted, market.ResCancelled, market.ResRejected, market.ResExpired),
	}
	epochRangeParams  = map[string]queryParam{"from": pIntRange(0, 1<<53), "to": pIntRange(0, 1<<53)}
	assignmentParams  = map[string]queryParam{"epoch": pIntRange(0, 1<<53), "limit": pLimit, "cursor": pCursor}
	unitOraclesParams = map[string]queryParam{"epoch": pIntRange(0, 1<<53)}
	accessKeysParams  = map[string]queryParam{
		"limit": pLimit, "cursor": pCursor,
		"reservation": pPattern(resIDPattern, "res-1"), "provider": pAddress,
	}
	quoteParams = map[string]queryParam{
		"bytes": pSize(true), "term": pDuration, "egress": pSize(false),
		"region": pText(64), "country": pCountry, "kind": pEnum(market.UnitKinds()...),
		"limit": pLimit,
	}
)

// checkQuery validates a list endpoint's query string against its table:
// unknown or repeated parameters and malformed values are 400 invalid_query
// (invalid_address for addresses), so a typo never silently widens a filter.
// It returns the canonical query string the contract reads.
func checkQuery(raw string, params map[string]queryParam, required []string) (string, core.Code, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", core.CodeInvalidQuery, fmt.Errorf("query string: %v", err)
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	out := url.Values{}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		check, ok := params[k]
		if !ok {
			return "", core.CodeInvalidQuery, fmt.Errorf("unknown query parameter %q; this endpoint takes %s", k, strings.Join(names, ", "))
		}
		if len(q[k]) != 1 {
			return "", core.CodeInvalidQuery, fmt.Errorf("query parameter %q is given %d times; give it once", k, len(q[k]))
		}
		v, err := check(q[k][0])
		if err != nil {
			code := core.CodeInvalidQuery
			if k == "consumer" || k == "provider" || k == "owner" {
				code = core.CodeInvalidAddress
			}
			return "", code, fmt.Errorf("%s=%q %v", k, q[k][0], err)
		}
		out.Set(k, v)
	}
	for _, k := range required {
		if out.Get(k) == "" {
			return "", core.CodeInvalidQuery, fmt.Errorf("query parameter %s is required", k)
		}
	}
	return out.Encode(), core.CodeOK, nil
}
