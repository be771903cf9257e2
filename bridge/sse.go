package bridge

import (
	"bytes"
	"encoding/xml"
	"net/http"

	"github.com/gofiber/fiber/v3"
)

// Server-side encryption is not offered yet. A client that asks for it
// (SSE-S3, SSE-KMS or SSE-C, on any request, as a header or as a presigned
// URL's query parameter) must not believe its object is encrypted while it
// is stored in plaintext: such requests are refused with NotImplemented
// before anything is read or stored.
var ssePrefixes = [][]byte{
	[]byte("x-amz-server-side-encryption"),
	[]byte("x-amz-copy-source-server-side-encryption"),
}

const sseRefusal = "Server-side encryption (SSE-S3, SSE-KMS, SSE-C) is not offered yet by this bridge; the request was not carried out. Send it without x-amz-server-side-encryption* headers."

func asksForSSE(name []byte) bool {
	for _, p := range ssePrefixes {
		if len(name) >= len(p) && bytes.EqualFold(name[:len(p)], p) {
			return true
		}
	}
	return false
}

// refuseSSE is a fiber middleware answering 501 NotImplemented to requests
// that ask for server-side encryption.
func refuseSSE(ctx fiber.Ctx) error {
	ask := false
	for name := range ctx.Request().Header.All() {
		if asksForSSE(name) {
			ask = true
			break
		}
	}
	if !ask {
		for name := range ctx.Request().URI().QueryArgs().All() {
			if asksForSSE(name) {
				ask = true
				break
			}
		}
	}
	if !ask {
		return ctx.Next()
	}
	return writeS3Error(ctx, http.StatusNotImplemented, "NotImplemented", sseRefusal)
}

// writeS3Error answers with an S3 XML error from a middleware that runs
// before versitygw's handlers.
func writeS3Error(ctx fiber.Ctx, status int, code, msg string) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString("<Error><Code>")
	xml.EscapeText(&buf, []byte(code))
	buf.WriteString("</Code><Message>")
	xml.EscapeText(&buf, []byte(msg))
	buf.WriteString("</Message></Error>")
	ctx.Status(status)
	ctx.Set(fiber.HeaderContentType, "application/xml")
	return ctx.Send(buf.Bytes())
}
