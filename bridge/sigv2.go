package bridge

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
)

// AWS signature version 2 (header "Authorization: AWS <key>:<sig>" and
// query "AWSAccessKeyId=&Expires=&Signature="), which versitygw refuses, is
// what the aws CLI v1 uses for `aws s3 presign` and older clients use for
// everything. This middleware, ahead of versitygw's authentication,
// verifies a SigV2 request (HMAC-SHA1 over S3's string to sign, compared
// in constant time, within its time limits) and then re-signs it as a
// SigV4 header-authenticated request with the same key, which versitygw
// verifies and authorizes like any other: the key's permissions apply
// unchanged. A request that fails SigV2 verification never reaches it.

// sigV2MaxSkew is how far a header-signed request's Date may be from now.
const sigV2MaxSkew = 15 * time.Minute

// sigV2MaxExpiry caps how far ahead a SigV2 presigned URL may expire, like
// SigV4's 7 days: a longer-lived URL could not be revoked but by the key.
const sigV2MaxExpiry = 7 * 24 * time.Hour

// sigV2SubResources are the query parameters that are part of a SigV2
// canonical resource.
var sigV2SubResources = map[string]bool{
	"acl": true, "attributes": true, "cors": true, "delete": true, "encryption": true, "lifecycle": true,
	"legal-hold": true, "location": true, "logging": true, "notification": true, "object-lock": true,
	"ownershipControls": true, "partNumber": true, "policy": true, "publicAccessBlock": true,
	"requestPayment": true, "restore": true, "retention": true, "select": true, "select-type": true,
	"tagging": true, "torrent": true, "uploadId": true, "uploads": true, "versionId": true,
	"versioning": true, "versions": true, "website": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
}

// sigV2 is the fiber middleware; requests not signed with SigV2 pass
// through untouched.
func (b *Bridge) sigV2(ctx fiber.Ctx) error {
	access, sig, dateLine, query, ok, err := sigV2Params(ctx, time.Now())
	if !ok {
		return ctx.Next()
	}
	if err != nil {
		return writeS3Error(ctx, http.StatusForbidden, "AccessDenied", err.Error())
	}
	k, known := b.cfg.Keys.Lookup(access)
	if !known || k.Secret == "" {
		return writeS3Error(ctx, http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	mac := hmac.New(sha1.New, []byte(k.Secret))
	mac.Write([]byte(sigV2StringToSign(ctx, dateLine, b.cfg.VirtualHostDomain)))
	want := mac.Sum(nil)
	got, derr := base64.StdEncoding.DecodeString(sig)
	if derr != nil || !hmac.Equal(want, got) {
		return writeS3Error(ctx, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	if query {
		args := ctx.Request().URI().QueryArgs()
		args.Del("AWSAccessKeyId")
		args.Del("Signature")
		args.Del("Expires")
	}
	b.resignV4(ctx, k, time.Now().UTC())
	return ctx.Next()
}

// sigV2Params extracts a SigV2 request's key, signature and the Date line
// of its string to sign (Date header, or Expires for a presigned URL). ok
// is false for requests not signed with SigV2; err reports one that is but
// has expired, is skewed or malformed.
func sigV2Params(ctx fiber.Ctx, now time.Time) (access, sig, dateLine string, query, ok bool, err error) {
	if authz := ctx.Get("Authorization"); strings.HasPrefix(authz, "AWS ") {
		cred := strings.TrimPrefix(authz, "AWS ")
		i := strings.LastIndexByte(cred, ':')
		if i <= 0 {
			return "", "", "", false, true, fmt.Errorf("the Authorization header %q is not AWS <AccessKeyId>:<Signature>", authz)
		}
		access, sig = cred[:i], cred[i+1:]
		if ctx.Get("X-Amz-Date") == "" {
			dateLine = ctx.Get("Date")
		}
		d := ctx.Get("X-Amz-Date")
		if d == "" {
			d = ctx.Get("Date")
		}
		t, perr := http.ParseTime(d)
		if perr != nil {
			return access, sig, dateLine, false, true, fmt.Errorf("a SigV2 request needs a valid Date or X-Amz-Date header, got %q", d)
		}
		if t.Sub(now) > sigV2MaxSkew || now.Sub(t) > sigV2MaxSkew {
			return access, sig, dateLine, false, true, fmt.Errorf("the difference between the request time %s and the server's time %s is too large", t.UTC().Format(time.RFC1123), now.UTC().Format(time.RFC1123))
		}
		return access, sig, dateLine, false, true, nil
	}
	access, sig, exp := ctx.Query("AWSAccessKeyId"), ctx.Query("Signature"), ctx.Query("Expires")
	if access == "" || sig == "" {
		return "", "", "", false, false, nil
	}
	secs, perr := strconv.ParseInt(exp, 10, 64)
	if perr != nil {
		return access, sig, exp, true, true, fmt.Errorf("a SigV2 presigned URL needs Expires in seconds since the epoch, got %q", exp)
	}
	at := time.Unix(secs, 0)
	if !now.Before(at) {
		return access, sig, exp, true, true, fmt.Errorf("Request has expired (at %s)", at.UTC().Format(time.RFC3339))
	}
	if at.Sub(now) > sigV2MaxExpiry {
		return access, sig, exp, true, true, fmt.Errorf("a presigned URL may expire at most 7 days ahead, this one expires at %s", at.UTC().Format(time.RFC3339))
	}
	return access, sig, exp, true, true, nil
}

// sigV2StringToSign is S3's SigV2 string to sign of the request.
func sigV2StringToSign(ctx fiber.Ctx, dateLine, vhostDomain string) string {
	var sb strings.Builder
	sb.WriteString(ctx.Method())
	sb.WriteByte('\n')
	sb.WriteString(ctx.Get("Content-MD5"))
	sb.WriteByte('\n')
	sb.WriteString(ctx.Get("Content-Type"))
	sb.WriteByte('\n')
	sb.WriteString(dateLine)
	sb.WriteByte('\n')
	amz := map[string][]string{}
	for name, value := range ctx.Request().Header.All() {
		n := strings.ToLower(string(name))
		if strings.HasPrefix(n, "x-amz-") {
			amz[n] = append(amz[n], strings.TrimSpace(string(value)))
		}
	}
	names := make([]string, 0, len(amz))
	for n := range amz {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sb.WriteString(n + ":" + strings.Join(amz[n], ",") + "\n")
	}
	// Canonical resource: the path as sent, prefixed with the bucket for a
	// virtual-host style request, then the sub-resources.
	if host := string(ctx.Request().Header.Host()); vhostDomain != "" {
		h := host
		if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
			h = h[:i]
		}
		if bucket, found := strings.CutSuffix(h, "."+vhostDomain); found && bucket != "" {
			sb.WriteString("/" + bucket)
		}
	}
	sb.Write(ctx.Request().URI().PathOriginal())
	var subs []string
	for k, v := range ctx.Request().URI().QueryArgs().All() {
		if key := string(k); sigV2SubResources[key] {
			if len(v) == 0 {
				subs = append(subs, key)
			} else {
				subs = append(subs, key+"="+string(v))
			}
		}
	}
	sort.Strings(subs)
	if len(subs) > 0 {
		sb.WriteString("?" + strings.Join(subs, "&"))
	}
	return sb.String()
}

// resignV4 replaces a verified SigV2 request's authentication with a SigV4
// header signature by key k (unsigned payload: SigV2 signs no payload
// either; a Content-MD5 is still checked by versitygw).
func (b *Bridge) resignV4(ctx fiber.Ctx, k Key, now time.Time) {
	h := &ctx.Request().Header
	amzDate := now.Format("20060102T150405Z")
	day := amzDate[:8]
	h.Set("X-Amz-Date", amzDate)
	h.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	h.Del("Authorization")

	signed := map[string][]string{"host": {string(h.Host())}}
	for name, value := range h.All() {
		n := strings.ToLower(string(name))
		if strings.HasPrefix(n, "x-amz-") || n == "content-md5" || n == "content-type" {
			signed[n] = append(signed[n], strings.Join(strings.Fields(string(value)), " "))
		}
	}
	names := make([]string, 0, len(signed))
	for n := range signed {
		names = append(names, n)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, n := range names {
		canonHeaders.WriteString(n + ":" + strings.Join(signed[n], ",") + "\n")
	}
	query := url.Values{}
	for key, value := range ctx.Request().URI().QueryArgs().All() {
		query.Add(string(key), string(value))
	}
	for key := range query {
		sort.Strings(query[key])
	}
	signedHeaders := strings.Join(names, ";")
	// versitygw canonicalizes the path as sent, percent-decoded (not
	// normalized) then escaped; a path that does not decode fails there.
	path, err := url.PathUnescape(string(ctx.Request().URI().PathOriginal()))
	if err != nil {
		path = string(ctx.Request().URI().PathOriginal())
	}
	canonical := strings.Join([]string{ctx.Method(), sigV4EscapePath(path),
		strings.ReplaceAll(query.Encode(), "+", "%20"), canonHeaders.String(), signedHeaders, "UNSIGNED-PAYLOAD"}, "\n")
	scope := day + "/" + b.region + "/s3/aws4_request"
	crHash := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	key := hmacSHA256([]byte("AWS4"+k.Secret), day)
	key = hmacSHA256(key, b.region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	h.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+k.AccessKeyID+"/"+scope+", SignedHeaders="+signedHeaders+", Signature="+sig)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// sigV4EscapePath is SigV4's canonical URI encoding of a decoded path:
// every byte but the unreserved ones and '/' percent-encoded.
func sigV4EscapePath(p string) string {
	if p == "" {
		return "/"
	}
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			sb.WriteByte(c)
			continue
		}
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
}
