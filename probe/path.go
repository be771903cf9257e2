package probe

import (
	"fmt"
	"net/url"
	"strings"
)

// PathPrefix is where a bridge serves the probe endpoint on its S3
// listener: POST {endpoint}/_flashback/probe/{unit} and GET
// {endpoint}/_flashback/probe/{unit}/ping. "_" is not allowed in bucket
// names, so no S3 request (path style) can mean this path. Oracles derive
// the probe URL from a provider's registered bridge_endpoint with it, so no
// port rule ties the ops listener to the S3 one.
const PathPrefix = "/_flashback"

// BaseURL is the probe base URL (what Client's methods take) of a bridge
// registered with bridgeEndpoint: the endpoint, path kept (a reverse proxy
// prefix), plus PathPrefix.
func BaseURL(bridgeEndpoint string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(bridgeEndpoint))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("bridge_endpoint %q is not an http(s) URL", bridgeEndpoint)
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/") + PathPrefix, nil
}
