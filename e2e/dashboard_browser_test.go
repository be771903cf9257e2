package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium driven with chromedp that saves a full-page
// screenshot of every page it checks.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the dashboard's origin
	dir  string // where screenshots go
}

// needChromium returns Chromium's path, skipping the test when it is absent
// unless FLASHBACK_REQUIRE_SERVERS asks for it.
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FLASHBACK_REQUIRE_SERVERS") != "" {
		t.Fatal("chromium not installed: run scripts/test-servers.sh install (as root it apt-get installs Debian's chromium)")
	}
	t.Skip("chromium not installed (Debian package chromium); the dashboard browser test needs it")
	return ""
}

// screenshotDir is FLASHBACK_SCREENSHOTS (kept after the test) or a
// temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("FLASHBACK_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newBrowser(t *testing.T, chromium, base string) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: bctx, base: base, dir: screenshotDir(t)}
}

// open loads path and saves its full-page screenshot as name.png.
func (b *browser) open(path, name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.base+path), chromedp.WaitReady("footer")); err != nil {
		b.t.Fatalf("load %s: %v", path, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", path, err)
	}
	file := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot of %s: %s", path, file)
}

// text is the trimmed text of the element matching sel on the open page.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`((s) => { const e = document.querySelector(s); return e ? e.textContent.trim() : "<missing " + s + ">"; })(%q)`, sel))
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %.80s: %v", js, err)
	}
	return v
}

// drawn is one canvas as chart.js holds it.
type drawn struct {
	ID     string    `json:"id"`
	Chart  bool      `json:"chart"`
	Points int       `json:"points"`
	Width  int       `json:"width"`
	Labels []string  `json:"labels"`
	First  []float64 `json:"first"` // the first dataset's values
}

// charts are the page's canvases and what chart.js drew on them.
func (b *browser) charts() []drawn {
	b.t.Helper()
	return eval[[]drawn](b, `[...document.querySelectorAll("canvas")].map(c => {
		const ch = typeof Chart === "undefined" ? null : Chart.getChart(c);
		return {id: c.id, chart: !!ch, width: c.width,
			points: ch ? ch.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0,
			labels: ch ? ch.data.labels.map(String) : [], first: ch ? ch.data.datasets[0].data : []};
	})`)
}

// wantCharts fails unless the page drew exactly the charts ids, each with
// data points, and returns them by id.
func (b *browser) wantCharts(page string, ids ...string) map[string]drawn {
	b.t.Helper()
	got := map[string]drawn{}
	for _, c := range b.charts() {
		got[c.ID] = c
	}
	if len(got) != len(ids) {
		b.t.Errorf("%s: charts %v, want %v", page, keys(got), ids)
	}
	for _, id := range ids {
		c, ok := got[id]
		switch {
		case !ok:
			b.t.Errorf("%s: no canvas #%s", page, id)
		case !c.Chart:
			b.t.Errorf("%s: #%s has no Chart instance (chart.js did not draw)", page, id)
		case c.Points == 0 || c.Width == 0:
			b.t.Errorf("%s: #%s drew %d points on a %dpx canvas", page, id, c.Points, c.Width)
		}
	}
	return got
}

func keys(m map[string]drawn) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// wantText fails unless the element's text contains want.
func (b *browser) wantText(page, sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Errorf("%s: %s reads %q, want %q (as the REST API gives it)", page, sel, got, want)
	}
}
