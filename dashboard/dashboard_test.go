package dashboard

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// closedURL is the URL of a port nothing listens on: a node that is down.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	return url
}

func get(t *testing.T, h http.Handler, method, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b), rec.Result().Header
}

// TestNodeDown: with the node unreachable every page is a clear 502 page
// naming the API URL, not a panic or a blank page.
func TestNodeDown(t *testing.T) {
	url := closedURL(t)
	h, err := New(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/ui", "/ui/", "/ui/units/unit-1", "/ui/providers/fb1x", "/ui/reservations/res-1", "/ui/stats", "/ui/oracles"} {
		code, body, hdr := get(t, h, "GET", p)
		if code != http.StatusBadGateway || !strings.Contains(body, "Cannot reach the node") || !strings.Contains(body, url) {
			t.Errorf("GET %s with the node down: %d %q", p, code, body)
		}
		if !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: content type %q", p, hdr.Get("Content-Type"))
		}
	}
}

// TestRoutes: unknown dashboard paths are an escaped 404 page, writes are
// refused, and the vendored chart library is served.
func TestRoutes(t *testing.T) {
	h, err := New(closedURL(t))
	if err != nil {
		t.Fatal(err)
	}
	code, body, _ := get(t, h, "GET", "/ui/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	if code != http.StatusNotFound || strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("unknown path: %d, body not escaped: %s", code, body)
	}
	if code, _, _ := get(t, h, "POST", "/ui/units/unit-1"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", code)
	}
	code, body, hdr := get(t, h, "GET", "/ui/static/chart.umd.min.js")
	if code != http.StatusOK || !strings.Contains(body[:200], "Chart.js v4.6.1") || !strings.Contains(hdr.Get("Content-Type"), "javascript") {
		t.Errorf("chart.js: %d %s %.80q", code, hdr.Get("Content-Type"), body)
	}
	for _, f := range []string{"style.css", "charts.js"} {
		if code, _, _ := get(t, h, "GET", "/ui/static/"+f); code != http.StatusOK {
			t.Errorf("static %s: %d", f, code)
		}
	}
}

func TestFormat(t *testing.T) {
	for a, want := range map[core.Amount]string{0: "0 FLASH", 1: "0.000001 FLASH", 1_500_000: "1.5 FLASH",
		1_234_567_000_000: "1,234,567 FLASH", 12_345_678_900_001: "12,345,678.900001 FLASH", core.MaxAmount: "18,446,744,073,709.551615 FLASH"} {
		if got := flash(a); got != want {
			t.Errorf("flash(%d) = %q, want %q", a, got, want)
		}
	}
	for b, want := range map[uint64]string{0: "0 GiB", 1 << 30: "1 GiB", 1024 << 30: "1,024 GiB", 3 << 29: "1.5 GiB",
		(1 << 30) - 1: "1,023.99 MiB", 1: "1 B", 1023: "1,023 B", 3 << 20: "3 MiB", 1536: "1.5 KiB",
		107374182400: "100 GiB", ^uint64(0): "17,179,869,183.99 GiB"} {
		if got := size(b); got != want {
			t.Errorf("size(%d) = %q, want %q", b, got, want)
		}
	}
	for bps, want := range map[uint32]string{10000: "100%", 9950: "99.5%", 1: "0.01%", 0: "0%"} {
		if got := pct(bps); got != want {
			t.Errorf("pct(%d) = %q, want %q", bps, got, want)
		}
	}
	if got := num(int64(-1234567)); got != "-1,234,567" {
		t.Errorf("num = %q", got)
	}
}

// TestMarketFilterQuery: the filter's FLASH and GiB become the API's uflash
// and bytes; nonsense is refused with a message, not passed on.
func TestMarketFilterQuery(t *testing.T) {
	uf, err := marketFilter{MinFree: "1.5", MaxPrice: "0.25", Sort: "price"}.unitFilter()
	if err != nil || uf.MinFree != 3<<29 || uf.MaxPrice == nil || *uf.MaxPrice != 250_000 || uf.Sort != "price" {
		t.Fatalf("filter: %+v %v", uf, err)
	}
	for _, f := range []marketFilter{{MinFree: "-1"}, {MinFree: "lots"}, {MinFree: "1e300"}, {MaxPrice: "1.0000001"}, {MaxPrice: "-2"}, {Sort: "random"}} {
		if _, err := f.unitFilter(); err == nil {
			t.Errorf("%+v: accepted", f)
		}
	}
}

// TestScoreHistory: a provider's chart carries each unit's score over the
// epochs it was not reported in and ends with the score now; the moves list
// score changes, breaches and the closed scoring period, newest first.
func TestScoreHistory(t *testing.T) {
	units := []types.UnitView{{Unit: types.Unit{ID: "unit-1"}}, {Unit: types.Unit{ID: "unit-2"}}}
	qos := map[string]*types.UnitQoSView{
		"unit-1": {Score: 62, UnitQoS: types.UnitQoS{LastScored: 7, LastDelta: 6}, History: []types.UnitEpochQoS{
			{Epoch: 10, Score: 50, Status: "compliant"}, {Epoch: 11, Score: 56, Status: "compliant"}, {Epoch: 12, Score: 56, Status: "compliant"}}},
		"unit-2": {Score: 40, History: []types.UnitEpochQoS{
			{Epoch: 11, Score: 50, Status: "compliant"}, {Epoch: 12, Score: 40, Status: "breached", Terms: []string{"p95_latency"}}}},
	}
	charts, moves := scoreHistory(units, qos)
	c := charts[0]
	if strings.Join(c.Labels, ",") != "10,11,12,now" || len(c.Datasets) != 3 {
		t.Fatalf("chart: %+v", c)
	}
	if mean := c.Datasets[0].Data; mean[0] != 50 || mean[1] != 53 || mean[2] != 48 || mean[3] != 51 {
		t.Errorf("provider mean %v", mean)
	}
	if u2 := c.Datasets[2].Data; u2[0] != 50 || u2[2] != 40 || u2[3] != 40 {
		t.Errorf("unit-2 series %v: epoch 10 should carry its first score", u2)
	}
	want := []string{"-1 unit-1 56>62 scoring period 7 closed: +6", "12 unit-2 50>40 scoring period closed: −10, unreachable or below its terms",
		"11 unit-1 50>56 scoring period closed: +6, reachable and within its terms"}
	var got []string
	for _, m := range moves {
		got = append(got, fmt.Sprintf("%d %s %d>%d %s", m.Epoch, m.Unit, m.From, m.To, m.Reason))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("moves\n%q\nwant\n%q", got, want)
	}
}
