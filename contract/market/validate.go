package market

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/flashback-network/flashback/contract/core"
)

// Checks of the free-text, URL and region fields of provider and unit
// messages.

func checkText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return core.Errf(core.CodeInvalidMessage, "%s is required", field)
	}
	if len(s) > max {
		return core.Errf(core.CodeInvalidMessage, "%s is %d bytes, limit is %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return core.Errf(core.CodeInvalidMessage, "%s is not valid UTF-8", field)
	}
	return nil
}

func checkURL(field, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if len(s) > 256 {
		return core.Errf(core.CodeInvalidMessage, "%s is longer than 256 bytes", field)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return core.Errf(core.CodeInvalidMessage, "%s %q must be an http:// or https:// URL with a host", field, s)
	}
	return nil
}

func checkRegion(region, country string) error {
	if err := checkText("region", region, 64, true); err != nil {
		return err
	}
	if len(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z' {
		return core.Errf(core.CodeInvalidMessage, "country %q must be an ISO 3166 alpha-2 code in capitals, e.g. DE", country)
	}
	return nil
}
