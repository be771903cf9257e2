package chain

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/viper"
)

// AppConfig is flashback's own node configuration, beside CometBFT's
// config.toml in HOME/config/app.json.
type AppConfig struct {
	// APIAddr is where the REST API listens.
	APIAddr string `json:"api_addr"`
}

// DefaultAPIAddr is the REST API's default listen address.
const DefaultAPIAddr = "127.0.0.1:1317"

func appConfigPath(home string) string { return filepath.Join(home, "config", "app.json") }

// LoadAppConfig reads HOME/config/app.json; a missing file means defaults.
func LoadAppConfig(home string) (AppConfig, error) {
	c := AppConfig{APIAddr: DefaultAPIAddr}
	b, err := os.ReadFile(appConfigPath(home))
	if os.IsNotExist(err) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", appConfigPath(home), err)
	}
	return c, nil
}

func writeAppConfig(home string, c AppConfig) error {
	b, _ := json.MarshalIndent(c, "", "  ")
	return os.WriteFile(appConfigPath(home), append(b, '\n'), 0o644)
}

// LoadCometConfig reads HOME/config/config.toml.
func LoadCometConfig(home string) (*cfg.Config, error) {
	path := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no node config at %s (run `flashback init --home %s` first): %w", path, home, err)
	}
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c := cfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// setBlockTime tunes the consensus timeouts for a target block interval.
// CometBFT's block time is roughly timeout_commit plus propose/vote rounds.
func setBlockTime(c *cfg.Config, d time.Duration) {
	c.Consensus.TimeoutCommit = d
	if d < time.Second {
		c.Consensus.TimeoutPropose = time.Second
		c.Consensus.TimeoutPrevote = 200 * time.Millisecond
		c.Consensus.TimeoutPrecommit = 200 * time.Millisecond
	}
}
