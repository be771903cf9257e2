package gateway

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/flashback-network/flashback/receipt"
)

// memberClient talks S3 to one member's bridge, bucket = the reservation.
// Reads, lists, deletes and multipart bookkeeping go through aws-sdk-go-v2;
// object and part uploads go through putStream (trailer.go), which streams
// with an SHA-256 trailing checksum that the bridge verifies and stores.
type memberClient struct {
	m      Member
	region string
	s3     *s3.Client
	hc     *http.Client
	signer *v4.Signer
}

// clients caches member clients by their endpoint and credentials, so
// connections are reused across requests.
type clients struct {
	mu sync.Mutex
	hc *http.Client
	m  map[string]*memberClient
}

// newClients builds the member clients' shared transport; receipts the
// members sign are kept in journal (receipts.go).
func newClients(journal *receipt.Journal, logf func(string, ...any)) *clients {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       256 << 10,
		ReadBufferSize:        256 << 10,
		DisableCompression:    true,
	}
	tap := &receiptTap{next: tr, journal: journal, logf: logf}
	return &clients{hc: &http.Client{Transport: tap}, m: map[string]*memberClient{}}
}

func (c *clients) get(m Member) *memberClient {
	id := m.Endpoint + "\x00" + m.AccessKeyID + "\x00" + m.Secret + "\x00" + m.Region + "\x00" + m.ID
	c.mu.Lock()
	defer c.mu.Unlock()
	if mc, ok := c.m[id]; ok {
		mc.m = m // state and score may change
		return mc
	}
	region := m.Region
	if region == "" {
		region = "us-east-1"
	}
	cl := s3.New(s3.Options{
		Region:                     region,
		BaseEndpoint:               aws.String(strings.TrimRight(m.Endpoint, "/")),
		UsePathStyle:               true,
		Credentials:                aws.NewCredentialsCache(staticCreds{m.AccessKeyID, m.Secret}),
		HTTPClient:                 c.hc,
		RetryMaxAttempts:           1, // the gateway fails over to other members instead
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		// The gateway checks the SHA-256 of what it reads itself (read.go)
		// and must tell a bad copy from a failed read: the SDK's own check
		// would turn both into one error.
		APIOptions: []func(*middleware.Stack) error{func(st *middleware.Stack) error {
			st.Deserialize.Remove("AWSChecksum:ValidateOutputPayloadChecksum")
			return nil
		}},
	})
	mc := &memberClient{m: m, region: region, s3: cl, hc: c.hc, signer: v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = true
	})}
	c.m[id] = mc
	return mc
}

type staticCreds struct{ id, secret string }

func (s staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: s.id, SecretAccessKey: s.secret, Source: "gateway"}, nil
}

// objectURL is the path-style URL of key in the member's bucket.
func (mc *memberClient) objectURL(key string, query url.Values) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(mc.m.Endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("member %s: bad endpoint: %w", mc.m.ID, err)
	}
	u.Path = "/" + mc.m.ID + "/" + key
	u.RawPath = "/" + mc.m.ID + "/" + escapeKey(key)
	u.RawQuery = strings.ReplaceAll(query.Encode(), "+", "%20")
	return u, nil
}

// escapeKey percent-encodes an S3 key for a path (SigV4's URI encoding:
// everything but unreserved characters and '/').
func escapeKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// memberError is an S3 error answer of a member.
type memberError struct {
	Status  int
	Code    string
	Message string
}

func (e *memberError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// readError turns a non-2xx response into a memberError.
func readError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var x struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	_ = xml.Unmarshal(body, &x)
	if x.Code == "" {
		x.Code = http.StatusText(resp.StatusCode)
	}
	return &memberError{Status: resp.StatusCode, Code: x.Code, Message: x.Message}
}

// errCode returns the S3 error code of a member error ("" if none).
func errCode(err error) string {
	var me *memberError
	if errors.As(err, &me) {
		return me.Code
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound says whether err is a member's "no such key".
func isNotFound(err error) bool {
	switch errCode(err) {
	case "NoSuchKey", "NotFound", "Not Found":
		return true
	}
	return false
}

// isClientError says whether a member refused the request for what it
// is (so other members will refuse it too), rather than failing.
func isClientError(err error) bool {
	var me *memberError
	if errors.As(err, &me) {
		return me.Status >= 400 && me.Status < 500 && me.Status != http.StatusRequestTimeout && me.Status != http.StatusTooManyRequests
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
	}
	return false
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
