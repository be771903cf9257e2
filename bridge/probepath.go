package bridge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/flashback-network/flashback/probe"
)

// The oracles' probe endpoint on the S3 listener (Config.Probe), under
// probe.PathPrefix: oracles reach it at the provider's registered
// bridge_endpoint, whatever port the ops listener is on. "_flashback" is not
// a valid bucket name, so in path style nothing of S3 is taken from
// clients; in virtual-host style (<bucket>.<domain>) the path is an object
// key and stays S3's.

var probeRoute = []byte(probe.PathPrefix + "/")

// isProbeRequest reports whether the request is for the probe endpoint.
func (b *Bridge) isProbeRequest(ctx *fasthttp.RequestCtx) bool {
	if b.cfg.Probe == nil || !bytes.HasPrefix(ctx.Path(), probeRoute) {
		return false
	}
	if d := b.cfg.VirtualHostDomain; d != "" {
		host := string(ctx.Host())
		if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
			host = host[:i]
		}
		if strings.HasSuffix(strings.ToLower(host), "."+strings.ToLower(d)) {
			return false // a bucket's object key
		}
	}
	return true
}

// withProbe routes probe requests to Config.Probe and the rest to next.
func (b *Bridge) withProbe(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	if b.cfg.Probe == nil {
		return next
	}
	h := http.StripPrefix(probe.PathPrefix, b.cfg.Probe)
	return func(ctx *fasthttp.RequestCtx) {
		if !b.isProbeRequest(ctx) {
			next(ctx)
			return
		}
		serveNetHTTP(ctx, h)
	}
}

// serveNetHTTP serves a net/http handler on a fasthttp request. The
// request body is streamed (the probe handler authenticates from the
// headers before it reads the body, and bounds it); the answer, at most a
// probe object, is buffered.
func serveNetHTTP(fctx *fasthttp.RequestCtx, h http.Handler) {
	var body io.Reader = http.NoBody
	if s := fctx.RequestBodyStream(); s != nil {
		body = s
	} else if b := fctx.Request.Body(); len(b) > 0 {
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	uri := string(fctx.RequestURI())
	r, err := http.NewRequestWithContext(ctx, string(fctx.Method()), uri, body)
	if err != nil {
		fctx.Error("bad request URI", fasthttp.StatusBadRequest)
		return
	}
	r.RequestURI, r.Host, r.RemoteAddr = uri, string(fctx.Host()), fctx.RemoteAddr().String()
	r.ContentLength = int64(fctx.Request.Header.ContentLength())
	if r.ContentLength < 0 {
		r.ContentLength = -1 // chunked: unknown
	}
	for k, v := range fctx.Request.Header.All() {
		r.Header.Add(string(k), string(v))
	}
	w := &bufferedResponse{header: http.Header{}}
	h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	fctx.SetStatusCode(w.status)
	for k, vs := range w.header {
		if k == "Content-Length" {
			continue // SetBody sets it
		}
		for _, v := range vs {
			fctx.Response.Header.Add(k, v)
		}
	}
	fctx.SetBody(w.body.Bytes())
}

// bufferedResponse is an http.ResponseWriter that keeps the answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *bufferedResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}
