// Package dashboard serves the read-only web dashboard at /ui: the market,
// units with their QoS charts, providers, reservations, network stats and
// oracles. Pages are rendered on the server with html/template from data
// read through the Go SDK against a node's REST API URL, so the dashboard
// works in front of the local node or a remote one. Nothing on it writes.
package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net/http"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the dashboard is mounted.
const Prefix = "/ui"

// Handler serves the dashboard pages and their static files.
type Handler struct {
	api   *client.Client
	url   string
	pages map[string]*template.Template
	mux   *http.ServeMux
	// Timeout bounds the API calls one page makes.
	Timeout time.Duration
}

// New returns the dashboard reading the REST API at apiURL.
func New(apiURL string) (*Handler, error) {
	h := &Handler{api: client.New(apiURL), url: apiURL, pages: map[string]*template.Template{},
		mux: http.NewServeMux(), Timeout: 15 * time.Second}
	for _, name := range []string{"market", "unit", "provider", "reservation", "stats", "oracles", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", staticHandler(static)))
	h.mux.HandleFunc("GET "+Prefix, h.page(h.market))
	h.mux.HandleFunc("GET "+Prefix+"/{$}", h.page(h.market))
	h.mux.HandleFunc("GET "+Prefix+"/units/{id}", h.page(h.unit))
	h.mux.HandleFunc("GET "+Prefix+"/providers/{address}", h.page(h.provider))
	h.mux.HandleFunc("GET "+Prefix+"/reservations/{id}", h.page(h.reservation))
	h.mux.HandleFunc("GET "+Prefix+"/stats", h.page(h.stats))
	h.mux.HandleFunc("GET "+Prefix+"/oracles", h.page(h.oracles))
	h.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.renderError(w, http.StatusMethodNotAllowed, "Method not allowed", "The dashboard is read-only: only GET is served.")
			return
		}
		h.renderError(w, http.StatusNotFound, "Page not found", "There is no dashboard page at "+r.URL.Path+".")
	})
	return h, nil
}

// staticHandler serves the embedded files; they change only with the
// binary, so browsers may keep them for an hour.
func staticHandler(static fs.FS) http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			log.Printf("dashboard: panic serving %s: %v", r.URL.Path, v)
			h.renderError(w, http.StatusInternalServerError, "Internal error", "The dashboard failed to render this page.")
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// view is what a page handler hands to its template.
type view struct {
	Name  string // template name, also the active nav tab
	Title string
	Data  any
}

// pageFunc loads one page's data from the API.
type pageFunc func(ctx context.Context, r *http.Request) (view, error)

// layoutData is what layout.html renders around every page.
type layoutData struct {
	view
	Status  *types.Status
	NodeURL string
	Now     time.Time
}

func (h *Handler) page(f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), h.Timeout)
		defer cancel()
		st, err := h.api.Status(ctx)
		if err != nil {
			h.apiError(w, err, nil)
			return
		}
		v, err := f(ctx, r)
		if err != nil {
			h.apiError(w, err, st)
			return
		}
		h.render(w, http.StatusOK, layoutData{view: v, Status: st, NodeURL: h.url, Now: time.Now().UTC()})
	}
}

// render executes into a buffer first so a template error cannot leave a
// half-written page behind a 200.
func (h *Handler) render(w http.ResponseWriter, status int, d layoutData) {
	var buf bytes.Buffer
	if err := h.pages[d.Name].Execute(&buf, d); err != nil {
		log.Printf("dashboard: render %s: %v", d.Name, err)
		if d.Name != "error" {
			h.renderError(w, http.StatusInternalServerError, "Internal error", "The dashboard failed to render this page.")
			return
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of error.html.
type errorPage struct {
	Status  int
	Heading string
	Detail  string
}

func (h *Handler) renderError(w http.ResponseWriter, status int, heading, detail string) {
	h.renderErrorAt(w, nil, status, heading, detail)
}

// renderErrorAt is renderError with the node's status for the header, when
// the node answered it.
func (h *Handler) renderErrorAt(w http.ResponseWriter, st *types.Status, status int, heading, detail string) {
	h.render(w, status, layoutData{view: view{Name: "error", Title: heading,
		Data: errorPage{Status: status, Heading: heading, Detail: detail}}, Status: st, NodeURL: h.url, Now: time.Now().UTC()})
}

// apiError maps an API or transport error to an error page: unknown ids
// are 404s, anything else means the node could not answer (502). st is the
// node's status if it answered it.
func (h *Handler) apiError(w http.ResponseWriter, err error, st *types.Status) {
	var ae *client.Error
	renderError := func(w http.ResponseWriter, status int, heading, detail string) {
		h.renderErrorAt(w, st, status, heading, detail)
	}
	switch {
	case errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Code == "not_found"):
		renderError(w, http.StatusNotFound, "Not found", ae.Message)
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		renderError(w, http.StatusBadRequest, "Bad request", ae.Message)
	case errors.As(err, &ae):
		renderError(w, http.StatusBadGateway, "The node answered with an error", fmt.Sprintf("%s (HTTP %d from %s)", ae.Error(), ae.Status, h.url))
	default:
		renderError(w, http.StatusBadGateway, "Cannot reach the node",
			fmt.Sprintf("The dashboard reads the REST API at %s and could not get an answer: %v", h.url, err))
	}
}
