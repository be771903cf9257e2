package bridge

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"
)

// Checks the bridge's middleware makes around versitygw's handling of a
// request, for what versitygw v1.8.0 does not do as S3 does.

// maxPresignSkew is how far in the future a presigned URL's X-Amz-Date may
// lie: the clock skew S3 tolerates for signed requests. Beyond it the URL
// is not valid yet; accepting it would let a URL signed for next year
// outlive the 7-day cap on X-Amz-Expires.
const maxPresignSkew = 15 * time.Minute

// presignNotYetValid refuses a presigned (SigV4 query) request whose
// X-Amz-Date lies in the future beyond maxPresignSkew, as S3 does
// (403 AccessDenied, "Request is not valid yet"). versitygw only checks
// that it is not expired.
func presignNotYetValid(ctx fiber.Ctx, now time.Time) s3err.S3Error {
	date := ctx.Query("X-Amz-Date")
	if date == "" || ctx.Query("X-Amz-Algorithm") == "" {
		return nil
	}
	t, err := time.Parse("20060102T150405Z", date)
	if err != nil {
		return nil // malformed: versitygw's presign check answers it
	}
	if t.After(now.Add(maxPresignSkew)) {
		return s3err.APIError{Code: "AccessDenied", Description: "Request is not valid yet", HTTPStatusCode: http.StatusForbidden}
	}
	return nil
}

// sendError answers a request with an S3 error from a middleware.
func sendError(ctx fiber.Ctx, err s3err.S3Error) error {
	requestID, hostID := utils.EnsureRequestIDs(ctx)
	ctx.Response().Header.SetContentType(fiber.MIMEApplicationXML)
	if ctx.Method() == http.MethodHead {
		return ctx.SendStatus(err.StatusCode())
	}
	return ctx.Status(err.StatusCode()).Send(err.XMLBody(requestID, hostID))
}

// fixBareBadRequest replaces versitygw's generic error (code "400", "Bad
// Request"), which it answers for an object key that would name something
// outside its bucket once its dot segments are resolved ("../x"), with an
// S3 error clients can report: InvalidArgument saying why.
func fixBareBadRequest(ctx fiber.Ctx) {
	resp := ctx.Response()
	if resp.StatusCode() != http.StatusBadRequest || !bytes.Contains(resp.Body(), []byte("<Code>400</Code>")) {
		return
	}
	requestID, hostID := utils.EnsureRequestIDs(ctx)
	e := s3err.APIError{Code: "InvalidArgument", HTTPStatusCode: http.StatusBadRequest,
		Description: fmt.Sprintf("Invalid object key in %q: it resolves to a name outside its bucket (a \"..\" segment too many).", ctx.Path())}
	resp.SetBody(e.XMLBody(requestID, hostID))
}

// nextChecked runs the rest of the handler chain with the checks above
// around it.
func nextChecked(ctx fiber.Ctx) error {
	if err := presignNotYetValid(ctx, time.Now()); err != nil {
		return sendError(ctx, err)
	}
	err := ctx.Next()
	if err == nil {
		fixBareBadRequest(ctx)
	}
	return err
}
