package s3front

import (
	"io"

	"github.com/valyala/fasthttp"
)

// maxDrain is how much of a request body a handler left unread is read
// off the connection so that it stays usable; past that the connection is
// closed after the response instead.
const maxDrain = 1 << 20

// DrainBody runs h, then reads off the connection what h left of the
// request body. The server streams request bodies, and fasthttp leaves an
// unread rest on a keep-alive connection, parsing it as the next request:
// a 0-byte PUT signed as a streaming aws-chunked body (minio-go over plain
// HTTP, sent with Transfer-Encoding: chunked) is answered from the decoded
// length without reading its final chunk, and the client then got a 400
// "could not be parsed as HTTP" as the answer to its next request.
func DrainBody(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		h(ctx)
		r := ctx.RequestBodyStream()
		if r == nil {
			return
		}
		n, err := io.CopyN(io.Discard, r, maxDrain+1)
		if n > maxDrain || (err != nil && err != io.EOF) {
			ctx.SetConnectionClose()
		}
	}
}
