package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// TestDashboardBrowser: `flashback dev` serves the dashboard at /ui on its
// API address. Headless Chromium loads every page once the oracle has
// reported a few epochs; each page shows the figures the REST API returns
// and every chart drew its points. Screenshots are saved (and logged) under
// FLASHBACK_SCREENSHOTS or a temporary directory.
func TestDashboardBrowser(t *testing.T) {
	chromium := needChromium(t)
	w := startReadmeWalk(t)
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", w.base+2)
	c := client.New(apiURL)
	ctx := context.Background()
	bucket := storeObject(t, w.home, c, 3<<20+12345)
	waitQoSEpochs(t, c, "unit-1", 3)

	checkRootRedirect(t, apiURL)
	b := newBrowser(t, chromium, apiURL)
	units, err := c.Units(ctx, client.UnitFilter{})
	if err != nil || len(units.Units) < 3 {
		t.Fatalf("units: %v %+v", err, units)
	}

	b.open("/", "market")
	if got := b.text("#unit-count"); got != strconv.Itoa(len(units.Units)) {
		t.Errorf("market: %s units listed, the API has %d", got, len(units.Units))
	}
	for _, u := range units.Units {
		row := fmt.Sprintf(`tr[data-unit=%q]`, u.ID)
		b.wantText("market", row+" .price", wantFlash(u.StoragePrice))
		b.wantText("market", row+" .capacity", wantSize(u.Capacity))
		b.wantText("market", row+" .free-v", wantSize(u.FreeBytes))
	}
	checkMarketFilter(t, b, c, units.Units[0].FreeBytes)

	u := units.Units[0]
	b.open("/ui/units/"+u.ID, "unit")
	b.wantText("unit", "#unit-price", wantFlash(u.StoragePrice))
	b.wantText("unit", "#unit-capacity", wantSize(u.Capacity))
	b.wantText("unit", "#sla", "≤ "+group(strconv.Itoa(int(u.SLA.MaxP95LatencyMs)))+" ms")
	drawn := b.wantCharts("unit", "chart-latency", "chart-uptime", "chart-throughput", "chart-compliance")
	checkLatencyChart(t, c, u.ID, drawn["chart-latency"])

	prov, err := c.Provider(ctx, u.Provider)
	if err != nil {
		t.Fatal(err)
	}
	b.open("/ui/providers/"+u.Provider, "provider")
	b.wantText("provider", "#provider-stake", wantFlash(prov.Stake))
	b.wantText("provider", "#provider-units", u.ID)
	b.wantCharts("provider", "chart-score")

	// The dev bucket's reservation, whose usage storeObject saw reported.
	res, err := c.Reservation(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	b.open("/ui/reservations/"+res.ID, "reservation")
	b.wantText("reservation", "#res-escrowed", wantFlash(res.Escrowed))
	b.wantText("reservation", "#res-refunded", wantFlash(res.Refunded))
	b.wantText("reservation", "#res-stored", wantSize(res.StoredBytes))
	b.wantCharts("reservation", "chart-escrow", "chart-service")
	// Its statement link serves the per-epoch CSV from the same node.
	href := eval[string](b, `document.querySelector("#res-statement").href`)
	if code, body, err := httpGet(href); err != nil || code != 200 || !strings.HasPrefix(body, "kind,epoch,") {
		t.Fatalf("statement link %s: %d %v %.200s", href, code, err, body)
	}

	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.open("/ui/stats", "stats")
	b.wantText("stats", "#stat-capacity", wantSize(st.CapacityOffered))
	b.wantText("stats", "#stat-units", fmt.Sprintf("%d / %d", st.Providers, st.Units))
	b.wantCharts("stats", "chart-capacity", "chart-money", "chart-escrowed", "chart-staked", "chart-qos", "chart-counts")

	ors, err := c.Oracles(ctx, true, "")
	if err != nil || len(ors.Oracles) == 0 {
		t.Fatalf("oracles: %v %+v", err, ors)
	}
	b.open("/ui/oracles", "oracles")
	for _, o := range ors.Oracles {
		b.wantText("oracles", fmt.Sprintf("tr[data-oracle=%q] .stake", o.Address), wantFlash(o.Stake))
	}
	b.wantText("oracles", "#oracle-active", strconv.FormatUint(st.ActiveOracles, 10))

	checkNotFound(t, b, apiURL)
}

// storeObject uploads n bytes through the dev bucket (dev.env's S3 key)
// and waits until the bridge reported the usage, so the reservation page
// has real figures.
func storeObject(t *testing.T, home string, c *client.Client, n int) (reservation string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(home, "dev.env"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(l, "export "), "="); ok {
			env[k] = strings.Trim(v, "'")
		}
	}
	bucket := env["FLASHBACK_BUCKET"]
	bk := client.NewBucket(env["AWS_ENDPOINT_URL"], bucket, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
	ctx := context.Background()
	if err := bk.WaitReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := bk.Upload(ctx, "dashboard.bin", bytes.NewReader(make([]byte, n)), int64(n), client.UploadOptions{}); err != nil {
		t.Fatalf("upload to %s: %v", bucket, err)
	}
	eventually(t, 2*time.Minute, func() error {
		r, err := c.Reservation(ctx, bucket)
		if err != nil {
			return err
		}
		if r.StoredBytes < uint64(n) {
			return fmt.Errorf("%s stores %d bytes, want %d reported", bucket, r.StoredBytes, n)
		}
		return nil
	})
	return bucket
}

// waitQoSEpochs waits until the oracle's reports judged n epochs of unit.
func waitQoSEpochs(t *testing.T, c *client.Client, unit string, n int) {
	t.Helper()
	eventually(t, 3*time.Minute, func() error {
		q, err := c.UnitQoS(context.Background(), unit, client.EpochRange{})
		if err != nil {
			return err
		}
		if len(q.History) < n {
			return fmt.Errorf("%s has %d epochs of QoS, want %d", unit, len(q.History), n)
		}
		return nil
	})
}

// checkRootRedirect: GET / on the API address sends a browser to /ui while
// the API's own paths still answer JSON.
func checkRootRedirect(t *testing.T, apiURL string) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(apiURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui" {
		t.Errorf("GET /: %d to %q, want 302 to /ui", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = hc.Get(apiURL + "/v1/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Errorf("GET /v1/nope: %d %s, want the API's JSON 404", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// checkMarketFilter: the market's min-free filter lists what the API's
// min_free filter answers.
func checkMarketFilter(t *testing.T, b *browser, c *client.Client, free uint64) {
	t.Helper()
	gib := free / (1 << 30)
	want, err := c.Units(context.Background(), client.UnitFilter{MinFree: gib << 30})
	if err != nil {
		t.Fatal(err)
	}
	b.open(fmt.Sprintf("/ui?min_free=%d", gib), "market-filtered")
	if got := b.text("#unit-count"); got != strconv.Itoa(len(want.Units)) {
		t.Errorf("market min_free=%d: %s units, the API answers %d", gib, got, len(want.Units))
	}
	b.open("/ui?max_price=0.000001", "market-empty")
	b.wantText("market max_price", ".empty", "No unit matches")
}

// checkLatencyChart: the latency chart's points are the API's p95 of the
// same epochs.
func checkLatencyChart(t *testing.T, c *client.Client, unit string, d drawn) {
	t.Helper()
	q, err := c.UnitQoS(context.Background(), unit, client.EpochRange{})
	if err != nil {
		t.Fatal(err)
	}
	p95 := map[string]float64{}
	for _, e := range q.History {
		p95[strconv.FormatInt(e.Epoch, 10)] = float64(e.P95Ms)
	}
	if len(d.Labels) < 3 || len(d.Labels) != len(d.First) {
		t.Fatalf("latency chart: %d labels, %d points", len(d.Labels), len(d.First))
	}
	for i, ep := range d.Labels {
		if v, ok := p95[ep]; ok && v != d.First[i] {
			t.Errorf("latency chart epoch %s: %v ms, the API says %v", ep, d.First[i], v)
		}
	}
}

// checkNotFound: an unknown unit is a 404 page, not an error dump.
func checkNotFound(t *testing.T, b *browser, apiURL string) {
	t.Helper()
	resp, err := http.Get(apiURL + "/ui/units/unit-999")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown unit: status %d, want 404", resp.StatusCode)
	}
	b.open("/ui/units/unit-999", "not-found")
	b.wantText("not found", "#error", "Not found")
}

// wantFlash writes uflash as the dashboard should: the SDK's FLASH
// amount with thousands separators.
func wantFlash(a core.Amount) string {
	s := strings.TrimSuffix(client.FormatAmount(a), " FLASH")
	whole, frac, _ := strings.Cut(s, ".")
	if frac != "" {
		frac = "." + frac
	}
	return group(whole) + frac + " FLASH"
}

// wantSize writes bytes as the dashboard should: GiB with at most two
// decimals, rounded down; MiB, KiB or bytes under a GiB.
func wantSize(b uint64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if b>>u.shift > 0 || b == 0 {
			s := group(strconv.FormatUint(b>>u.shift, 10))
			if c := (b & (1<<u.shift - 1)) * 100 >> u.shift; c != 0 {
				s += strings.TrimRight(fmt.Sprintf(".%02d", c), "0")
			}
			return s + " " + u.name
		}
	}
	return group(strconv.FormatUint(b, 10)) + " B"
}

func group(d string) string {
	for i := len(d) - 3; i > 0; i -= 3 {
		d = d[:i] + "," + d[i:]
	}
	return d
}
