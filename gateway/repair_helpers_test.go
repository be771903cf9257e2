package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

// fastRepair is a repair loop configuration for tests: quick scans and
// refreshes, short backoff.
func fastRepair() *RepairConfig {
	return &RepairConfig{ScanInterval: 300 * time.Millisecond, Refresh: 50 * time.Millisecond,
		BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Concurrency: 4}
}

// startRepairing restarts f's gateway with the repair loop and an admin
// listener on 127.0.0.1.
func (f *fixture) startRepairing(rc *RepairConfig) {
	f.t.Helper()
	if f.gw != nil {
		f.stopGateway()
	}
	gw, err := New(context.Background(), Config{Directory: f.dir, StateDir: f.state, StallTimeout: 5 * time.Second,
		Logf: f.t.Logf, Repair: rc, AdminListen: "127.0.0.1:0"})
	if err != nil {
		f.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ln) }()
	f.gw, f.url = gw, "http://"+ln.Addr().String()
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
		<-done
	})
}

// bridgeOn starts a bridge for reservation id over the unit directory
// root (kept from a previous bridge, or new), with quota bytes (-1: none).
func bridgeOn(t testing.TB, id, root string, key bridge.Key, quota int64) *memberBridge {
	t.Helper()
	be, err := storage.NewLocal(storage.LocalConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := s3bench.ServeBridgeConfig(id, bridge.Config{
		Backend:      be,
		Keys:         bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: id, QuotaBytes: quota, EgressBytes: -1, Unit: "u"}),
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	m := &memberBridge{id: id, root: root, sb: sb, url: sb.Endpoint.URL, key: key}
	if tt, ok := t.(*testing.T); ok {
		t.Cleanup(func() { m.stop(tt) })
	} else {
		t.Cleanup(func() { sb.Close() })
	}
	return m
}

// swapMember replaces member i of f's repository (bridge and directory
// entry, in the given state).
func (f *fixture) swapMember(i int, m *memberBridge, state string) {
	f.members[i] = m
	r := f.repo
	r.Members = nil
	for _, mb := range f.members {
		mm := mb.member(50)
		if mb == m {
			mm.State = state
		}
		r.Members = append(r.Members, mm)
	}
	f.setRepo(r)
}

// fetchAdminStatus reads the repository's status from the admin endpoint,
// saying what went wrong, if anything.
func fetchAdminStatus(gw *Gateway, repo string) (RepoRepairStatus, int, error) {
	var st RepoRepairStatus
	resp, err := http.Get("http://" + gw.AdminAddr() + "/_flashback/repos/" + repo + "/status")
	if err != nil {
		return st, 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return st, resp.StatusCode, fmt.Errorf("%s", body)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, resp.StatusCode, fmt.Errorf("%v: %s", err, body)
	}
	return st, resp.StatusCode, nil
}

func memberLine(st RepoRepairStatus, id string) MemberRepairStatus {
	for _, m := range st.Members {
		if m.ID == id {
			return m
		}
	}
	return MemberRepairStatus{}
}

// waitStatus polls the admin endpoint until ok holds (or fails the test
// after d, printing the last status).
func waitStatus(t testing.TB, gw *Gateway, repo string, d time.Duration, ok func(RepoRepairStatus) bool) RepoRepairStatus {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		// 404 until the loop's first pass over the directory has started
		// the repository's repairer (it runs beside New, not inside it).
		st, code, err := fetchAdminStatus(gw, repo)
		if err != nil && code != http.StatusNotFound {
			t.Fatalf("admin status (%d): %v", code, err)
		}
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			js, _ := json.MarshalIndent(st, "", "  ")
			t.Fatalf("repair status not reached in %v:\n%s", d, js)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holdsExactly checks byte for byte, straight from the member's bridge,
// that it holds every object of want with the right stored sha256.
func holdsExactly(t testing.TB, m *memberBridge, want map[string][]byte) {
	t.Helper()
	for k, data := range want {
		out, err := m.direct().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(m.id), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("%s on %s: %v", k, m.id, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s on %s: %d bytes (err %v), want %d, same content: %t", k, m.id, len(got), err, len(data), bytes.Equal(got, data))
		}
		sum := sha256.Sum256(data)
		if has, stored := memberHas(t, m, k); !has || (stored != base64.StdEncoding.EncodeToString(sum[:]) && !isComposite(stored)) {
			t.Fatalf("%s on %s: stored sha256 %q, want %x", k, m.id, stored, sum)
		}
	}
}

func isComposite(s string) bool { return bytes.ContainsRune([]byte(s), '-') }

// putMany writes n objects of varied sizes through the gateway.
func putMany(t testing.TB, f *fixture, prefix string, n int) map[string][]byte {
	t.Helper()
	c := f.client(PermWrite)
	objs := map[string][]byte{}
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("%s-%03d", prefix, i)
		objs[k] = randBytes([]int{0, 1, 1000, 64 << 10, 200 << 10}[i%5] + i)
		mustPut(t, c, "photos", k, objs[k])
	}
	return objs
}

// wipe removes everything under dir (the unit's whole data directory).
func wipe(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(dir + "/" + e.Name()); err != nil {
			t.Fatal(err)
		}
	}
}

type httpAnswer struct {
	code int
	body string
}

func httpGet(url string) (httpAnswer, error) {
	resp, err := http.Get(url)
	if err != nil {
		return httpAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return httpAnswer{resp.StatusCode, string(b)}, err
}
