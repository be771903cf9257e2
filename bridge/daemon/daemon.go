// Package daemon runs a provider's bridge as a service: it reads the bridge
// config, opens the units' backends, follows the chain for reservations and
// access keys, serves S3, reports usage each epoch and serves /metrics.
package daemon

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/net/netutil"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/bridge/chainview"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/probe"
	"github.com/flashback-network/flashback/sealed"
	"github.com/flashback-network/flashback/storage"
)

// Config is HOME/bridge/config.json.
type Config struct {
	// Node is the REST API of a node to follow.
	Node string `json:"node"`
	// ProviderKey names the keyring key that owns the units and signs
	// usage reports.
	ProviderKey string `json:"provider_key"`
	// Listen is the S3 endpoint; it also serves the oracles' probe
	// endpoint under /_flashback/probe/{unit} (package probe), where
	// oracles find it from the provider's registered bridge_endpoint.
	// MetricsListen (the ops listener, any port) serves /metrics, /healthz
	// and the same probe endpoint at /probe/{unit}.
	Listen        string `json:"listen"`
	MetricsListen string `json:"metrics_listen,omitempty"`
	Region        string `json:"region,omitempty"`
	// VirtualHostDomain enables <bucket>.<domain> addressing.
	VirtualHostDomain string `json:"virtual_host_domain,omitempty"`
	// Units maps on-chain unit ids to the backend holding their data.
	// Credentials stay here, on the provider's machine.
	Units map[string]storage.Config `json:"units"`
	// ListCacheBytes is the memory of the listing cache in front of S3
	// units (0: 32 MiB). The cache assumes the bridge is the only writer
	// of the unit's bucket; set -1 when anything else writes there.
	ListCacheBytes int64 `json:"list_cache_bytes,omitempty"`
}

// KeyFile holds the bridge's X25519 key pair; consumers seal S3 secrets to
// the public half, which the provider registers on chain.
type KeyFile struct {
	PublicKey  []byte `json:"public_key"`
	PrivateKey []byte `json:"private_key"`
}

// Paths of the bridge's files under a home directory.
func ConfigPath(home string) string { return filepath.Join(home, "bridge", "config.json") }
func KeyPath(home string) string    { return filepath.Join(home, "bridge", "key.json") }

// LoadConfig reads and checks the config.
func LoadConfig(home string) (*Config, error) {
	b, err := os.ReadFile(ConfigPath(home))
	if err != nil {
		return nil, fmt.Errorf("bridge config: %w (create it with `flashback bridge init`)", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigPath(home), err)
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:9000"
	}
	if c.ProviderKey == "" {
		return nil, fmt.Errorf("%s: provider_key is required", ConfigPath(home))
	}
	return &c, nil
}

// SaveConfig writes the config (0600: it holds backend credentials).
func SaveConfig(home string, c *Config) error {
	if err := os.MkdirAll(filepath.Dir(ConfigPath(home)), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(ConfigPath(home), append(b, '\n'))
}

// LoadOrCreateKey returns the bridge key pair, creating it on first use.
func LoadOrCreateKey(home string) (pub, priv *[sealed.KeySize]byte, err error) {
	path := KeyPath(home)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if pub, priv, err = sealed.GenerateKey(); err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, nil, err
		}
		data, _ := json.MarshalIndent(KeyFile{PublicKey: pub[:], PrivateKey: priv[:]}, "", "  ")
		return pub, priv, writeFileAtomic(path, append(data, '\n'))
	}
	if err != nil {
		return nil, nil, err
	}
	var kf KeyFile
	if err := json.Unmarshal(b, &kf); err != nil || len(kf.PublicKey) != sealed.KeySize || len(kf.PrivateKey) != sealed.KeySize {
		return nil, nil, fmt.Errorf("%s is not a bridge key file", path)
	}
	pub, priv = new([sealed.KeySize]byte), new([sealed.KeySize]byte)
	copy(pub[:], kf.PublicKey)
	copy(priv[:], kf.PrivateKey)
	return pub, priv, nil
}

// PublicKeyBase64 is how the public key is given to `provider register`.
func PublicKeyBase64(pub *[sealed.KeySize]byte) string {
	return base64.StdEncoding.EncodeToString(pub[:])
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Options are what the caller resolves outside the config.
type Options struct {
	ProviderPriv ed25519.PrivateKey
	Log          io.Writer
	// Ready is called with the S3 and metrics URLs once serving.
	Ready func(s3URL, metricsURL string)
	// SyncInterval is how often the chain's height is polled (default 250ms).
	SyncInterval time.Duration
}

// Run serves until ctx ends.
func Run(ctx context.Context, home string, cfg *Config, o Options) error {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "bridge: "+format+"\n", args...)
		}
	}
	pub, priv, err := LoadOrCreateKey(home)
	if err != nil {
		return err
	}
	backends, units, closeBackends, err := openBackends(cfg.Units)
	if err != nil {
		return err
	}
	defer closeBackends()
	c := client.New(cfg.Node)
	signer := c.Signer(o.ProviderPriv)
	view := chainview.New(c, signer.Address(), pub, priv)
	if err := view.Sync(ctx); err != nil {
		return fmt.Errorf("first sync with %s: %w", cfg.Node, err)
	}
	// Receipts are signed with the provider key (its address is the
	// provider's on chain) for the chain the node serves.
	st, err := c.Status(ctx)
	if err != nil {
		return fmt.Errorf("chain id from %s: %w", cfg.Node, err)
	}
	// One probe handler for both listeners: they share its nonce cache,
	// so a signed probe cannot be replayed on the other one.
	probes := probe.NewHandler(probe.Config{
		Backend:  probe.BackendMap(backends),
		IsOracle: probe.CachedIsOracle(probe.ChainIsOracle(cfg.Node), 5*time.Second),
		Log:      logf,
	})
	b, err := bridge.New(bridge.Config{
		Region: cfg.Region, Backends: backends, Keys: view.Keys(), Reservations: view.Reservations(),
		VirtualHostDomain: cfg.VirtualHostDomain, ListCacheBytes: cfg.ListCacheBytes,
		ReceiptKey: o.ProviderPriv, ChainID: st.ChainID, Probe: probes,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("S3 listen: %w", err)
	}
	if err := registerViewMetrics(b, view); err != nil {
		ln.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	errc := make(chan error, 2)
	go func() { errc <- b.Serve(ln) }()

	opsServer, metricsURL, err := serveOps(cfg, opsHandler(b, view, probes), errc)
	if err != nil {
		_ = b.Shutdown(context.Background())
		return err
	}
	interval := o.SyncInterval
	if interval == 0 {
		interval = 250 * time.Millisecond
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go view.Run(runCtx, interval, func(err error) { logf("sync: %v", err) })
	rep := &chainview.Reporter{View: view, Bridge: b, Signer: signer}
	go rep.Run(runCtx, time.Second, func(err error) { logf("usage report: %v", err) })
	// Failing probes cost stake silently otherwise: say so (probewatch.go).
	go newProbeWatch(c, signer.Address(), cfg, logf).run(runCtx)

	s3URL := "http://" + ln.Addr().String()
	logf("serving S3 at %s for provider %s, units %v", s3URL, signer.Address(), units)
	if o.Ready != nil {
		o.Ready(s3URL, metricsURL)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	return shutdown(b, opsServer, err)
}

// openBackends opens every unit's backend, in unit order, and returns them
// with the sorted unit ids and a func closing those that need it. On error
// the backends already opened are closed.
func openBackends(unitConfigs map[string]storage.Config) (map[string]storage.Backend, []string, func(), error) {
	backends := map[string]storage.Backend{}
	units := make([]string, 0, len(unitConfigs))
	for id := range unitConfigs {
		units = append(units, id)
	}
	sort.Strings(units)
	var closers []io.Closer
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i].Close()
		}
	}
	for _, id := range units {
		backend, err := storage.New(unitConfigs[id])
		if err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("unit %s backend: %w", id, err)
		}
		if c, ok := backend.(io.Closer); ok {
			closers = append(closers, c)
		}
		backends[id] = backend
	}
	return backends, units, closeAll, nil
}

// opsHandler serves the ops listener: /metrics, /healthz and the oracles'
// probe endpoint.
func opsHandler(b *bridge.Bridge, view *chainview.View, probes http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", b.MetricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"status\":\"ok\",\"height\":%d}\n", view.Height())
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := viewReady(view); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "not ready", "error": err.Error(), "height": view.Height()})
			return
		}
		fmt.Fprintf(w, "{\"status\":\"ready\",\"height\":%d}\n", view.Height())
	})
	// The oracles' probe endpoint (package probe): signed requests from
	// active oracles only, through the same backends as S3.
	mux.Handle("/probe/", probes)
	return mux
}

// maxOpsConns caps the ops listener's open connections (metrics scrapes,
// health checks, probes).
const maxOpsConns = 256

// serveOps serves handler on cfg.MetricsListen, if set, reporting its end on
// errc; it returns the server and its URL (nil and "" when not configured).
func serveOps(cfg *Config, handler http.Handler, errc chan<- error) (*http.Server, string, error) {
	if cfg.MetricsListen == "" {
		return nil, "", nil
	}
	opsListener, err := net.Listen("tcp", cfg.MetricsListen)
	if err != nil {
		return nil, "", fmt.Errorf("metrics listen: %w", err)
	}
	// Probes move at most 16 MiB each way; a client slower than the
	// timeouts allow is not an oracle worth waiting for, and the connection
	// cap keeps tricklers from holding the listener.
	opsServer := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go func() { errc <- opsServer.Serve(netutil.LimitListener(opsListener, maxOpsConns)) }()
	return opsServer, "http://" + opsListener.Addr().String(), nil
}

// shutdown stops the S3 and ops servers, giving requests in flight 5 s, and
// returns why serving ended (nil for a normal close).
func shutdown(b *bridge.Bridge, opsServer *http.Server, err error) error {
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = b.Shutdown(sctx)
	if opsServer != nil {
		_ = opsServer.Shutdown(sctx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
