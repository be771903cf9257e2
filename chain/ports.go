package chain

import (
	"fmt"
	"path/filepath"
	"strings"

	cfg "github.com/cometbft/cometbft/config"
)

// ListenAddrs are the host:port addresses a node home listens on.
type ListenAddrs struct {
	P2P, RPC, API string
}

// HomeListenAddrs reads the P2P and RPC addresses from HOME/config/config.toml
// and the REST API's from HOME/config/app.json.
func HomeListenAddrs(home string) (ListenAddrs, error) {
	c, err := LoadCometConfig(home)
	if err != nil {
		return ListenAddrs{}, err
	}
	app, err := LoadAppConfig(home)
	if err != nil {
		return ListenAddrs{}, err
	}
	return ListenAddrs{P2P: stripScheme(c.P2P.ListenAddress), RPC: stripScheme(c.RPC.ListenAddress), API: app.APIAddr}, nil
}

// SetBasePort moves an existing home to P2P on basePort, CometBFT RPC on +1
// and, unless apiAddr names another, the REST API on +2: the same layout
// `init --base-port` writes, so a retry with other ports (after a clash on
// the first start) takes effect instead of reusing the clashing ones.
func SetBasePort(home string, basePort int, apiAddr string) error {
	if basePort <= 0 || basePort+2 > 65535 {
		return fmt.Errorf("base port %d: want 1..65533", basePort)
	}
	c, err := LoadCometConfig(home)
	if err != nil {
		return err
	}
	c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", basePort)
	c.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", basePort+1)
	cfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), c)
	if apiAddr == "" {
		apiAddr = fmt.Sprintf("127.0.0.1:%d", basePort+2)
	}
	return writeAppConfig(home, AppConfig{APIAddr: apiAddr})
}

// DefaultListenAddrs are what a home made without --base-port or
// --api-addr listens on.
func DefaultListenAddrs(basePort int, apiAddr string) ListenAddrs {
	def := cfg.DefaultConfig()
	a := ListenAddrs{P2P: stripScheme(def.P2P.ListenAddress), RPC: stripScheme(def.RPC.ListenAddress), API: DefaultAPIAddr}
	if basePort > 0 {
		a.P2P = fmt.Sprintf("127.0.0.1:%d", basePort)
		a.RPC = fmt.Sprintf("127.0.0.1:%d", basePort+1)
		a.API = fmt.Sprintf("127.0.0.1:%d", basePort+2)
	}
	if apiAddr != "" {
		a.API = apiAddr
	}
	return a
}

func stripScheme(addr string) string {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		return rest
	}
	return addr
}
