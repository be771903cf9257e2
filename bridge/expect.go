package bridge

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3api/middlewares"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"
)

// expectAuthenticated is the server's answer to "Expect: 100-continue":
// fasthttp sends "100 Continue" before any handler runs, so without it a
// client unauthenticated (wrong signature, unknown key) is invited to send
// its whole body before being refused. It checks a SigV4 Authorization
// header the way versitygw's signature middleware will (same functions:
// date, credentials, signature over the headers) and refuses at once,
// with the S3 error and the connection closed, what would fail there; a
// request without credentials (but a form POST, which carries them in its
// body) is refused with AccessDenied. Other schemes (presigned URLs, other
// signature versions) go on to the full checks.
func expectAuthenticated(app *fiber.App, iam auth.IAMService, root middlewares.RootUserConfig, region string) func(*fasthttp.RequestCtx) int {
	rootAccount := auth.Account{Access: root.Access, Secret: root.Secret, Role: auth.RoleAdmin}
	return func(fctx *fasthttp.RequestCtx) int {
		err := checkV4Header(app, fctx, iam, rootAccount, region)
		if err == nil {
			return fasthttp.StatusContinue
		}
		var se s3err.S3Error
		if !errors.As(err, &se) {
			se = s3err.GetAPIError(s3err.ErrAccessDenied)
		}
		fctx.Response.Header.SetContentType(fiber.MIMEApplicationXML)
		fctx.Response.SetBody(se.XMLBody(utils.NewS3RequestID(), ""))
		return se.StatusCode()
	}
}

// checkV4Header returns the error versitygw would answer for the request's
// credentials, or nil when they are valid or cannot be judged from the
// headers alone.
func checkV4Header(app *fiber.App, fctx *fasthttp.RequestCtx, iam auth.IAMService, root auth.Account, region string) error {
	h := &fctx.Request.Header
	authorization := string(h.Peek("Authorization"))
	if authorization == "" {
		args := fctx.QueryArgs()
		if args.Has("X-Amz-Signature") || args.Has("Signature") || string(h.Method()) == http.MethodPost {
			return nil
		}
		return s3err.GetAPIError(s3err.ErrAccessDenied)
	}
	if !strings.HasPrefix(authorization, "AWS4-HMAC-SHA256") {
		return nil
	}
	date := string(h.Peek("X-Amz-Date"))
	if date == "" {
		date = string(h.Peek("Date"))
	}
	tdate, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return s3err.GetAPIError(s3err.ErrMissingDateHeader)
	}
	if err := utils.ValidateDate(tdate); err != nil {
		return err
	}
	authData, err := utils.ParseAuthorization(authorization)
	if err != nil {
		return err
	}
	if authData.Region != region {
		return s3err.MalformedAuth.IncorrectRegion(region, authData.Region)
	}
	derivedKey, _, err := auth.ResolveDerivedKey(iam, root, authData.Access, string(h.Peek("X-Amz-Security-Token")),
		authData.Date, authData.Region, "s3")
	if err == auth.ErrNoSuchUser {
		return s3err.GetInvalidAccessKeyIdErr(authData.Access)
	}
	if err != nil {
		return nil // judged later
	}
	if date[:8] != authData.Date {
		return s3err.MalformedAuth.DateMismatch()
	}
	contentLength, _ := strconv.ParseInt(string(h.Peek("Content-Length")), 10, 64)
	// versitygw checks the signature after its URL decoder replaced the
	// path with its unescaped form (the check escapes it again); do the
	// same, on a copy of the request so that the real one is untouched.
	path, err := url.PathUnescape(string(fctx.URI().PathOriginal()))
	if err != nil {
		return nil // answered by the decoder
	}
	var req fasthttp.RequestCtx
	fctx.Request.CopyTo(&req.Request)
	req.URI().SetPath(path)
	ctx := app.AcquireCtx(&req)
	defer app.ReleaseCtx(ctx)
	_, err = utils.CheckValidSignature(ctx, authData, derivedKey, string(h.Peek("X-Amz-Content-Sha256")), tdate, contentLength)
	return err
}
