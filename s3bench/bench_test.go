package s3bench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/storage"
)

func serveLocal(t *testing.T, name string) (*ServedBridge, *storage.Local) {
	t.Helper()
	l, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := ServeBridge(name, l, "bench")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb, l
}

// TestRun measures two bridges against each other with small sizes: every
// operation is reported for both, ratios are computed, the table names
// them, and nothing the run wrote is left behind.
func TestRun(t *testing.T) {
	base, baseLocal := serveLocal(t, "base")
	target, _ := serveLocal(t, "target")
	o := Options{Rounds: 2, LargeSize: 1 << 20, MPUSize: 11 << 20, PartSize: 5 << 20, ListCount: 30, SmallSize: 100, SmallCount: 5}
	rep, err := Run(context.Background(), base.Endpoint, []Endpoint{target.Endpoint}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Ops) != len(allOps) {
		t.Fatalf("ops %v, want %v", rep.Ops, allOps)
	}
	for _, name := range []string{"base", "target"} {
		for _, op := range allOps {
			if m := rep.Results[name][op]; m.Median <= 0 {
				t.Errorf("%s %s: no measure %+v", name, op, m)
			}
		}
	}
	if m := rep.Results["target"][OpMPU]; m.Count != 3 || m.Bytes != 11<<20 {
		t.Errorf("multipart measure %+v, want 3 parts of 11 MiB", m)
	}
	for _, op := range allOps {
		if r := rep.Ratio("target", op); r <= 0 {
			t.Errorf("ratio %s = %v", op, r)
		}
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, s := range []string{"target/base", string(OpMPUComplete), string(OpList)} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	objs, err := baseLocal.List(context.Background(), "bench/", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		// The bridge's own bookkeeping (a completed upload's record, kept
		// a while to answer a repeated completion) is not the run's.
		if !strings.HasPrefix(o.Key, "bench/.fb-") {
			t.Errorf("the run left %q in the baseline", o.Key)
		}
	}
}

// TestRunBadEndpoint: a malformed endpoint is a clear error, not a panic.
func TestRunBadEndpoint(t *testing.T) {
	_, err := Run(context.Background(), Endpoint{Name: "b", URL: "127.0.0.1:9", Bucket: "x"}, []Endpoint{{Name: "t", URL: "http://127.0.0.1:9", Bucket: "x"}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "not an http(s)://host:port URL") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Run(context.Background(), Endpoint{Name: "b", URL: "http://127.0.0.1:9", Bucket: "x"}, nil, Options{}); err == nil {
		t.Fatal("no targets accepted")
	}
}
