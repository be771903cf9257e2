package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"time"
)

// FileConfig is the gateway's configuration file (JSON), read by
// `flashback gateway --config FILE`. Repositories and keys are either
// listed (static) or, with NodeURL and GatewayKeyFile (chain mode), read
// from the repo module of that node, their sealed secrets opened with the
// gateway's key (package gateway/chaindir).
type FileConfig struct {
	Listen   string `json:"listen"`    // S3 listen address, e.g. 127.0.0.1:9300
	StateDir string `json:"state_dir"` // intents, uploads, repair queue (mode 0700)
	Region   string `json:"region,omitempty"`
	// StallTimeout, MaxUploadAge: Go durations ("15s", "168h").
	StallTimeout string `json:"stall_timeout,omitempty"`
	MaxUploadAge string `json:"max_upload_age,omitempty"`
	VerifyBelow  int64  `json:"verify_below,omitempty"` // bytes; default 8 MiB
	// NodeURL and GatewayKeyFile select chain mode: a node's REST URL and
	// the gateway's X25519 key file. Owners, if set, limits chain mode to
	// these owners' repositories (anyone can seal one to a public key).
	NodeURL        string   `json:"node_url,omitempty"`
	GatewayKeyFile string   `json:"gateway_key_file,omitempty"`
	Owners         []string `json:"owners,omitempty"`
	// OwnerSecretFile holds the repositories' owner secret (mode 0600),
	// from which encrypted repositories' keys are derived.
	OwnerSecretFile string `json:"owner_secret_file,omitempty"`

	// AdminListen is the admin endpoints' address (repair status as
	// JSON); ":port" binds 127.0.0.1. Empty: no admin listener.
	AdminListen string `json:"admin_listen,omitempty"`
	// Repair tunes the repair loop (on by default for mirror repositories).
	Repair *FileRepair `json:"repair,omitempty"`

	Repos []FileRepo `json:"repos"`
	Keys  []FileKey  `json:"keys"`
}

// FileRepair is the repair loop's part of the configuration file.
type FileRepair struct {
	Disabled      bool    `json:"disabled,omitempty"`
	ScanInterval  string  `json:"scan_interval,omitempty"` // Go duration between full scans; default 10m
	Scrub         bool    `json:"scrub,omitempty"`         // scans read and hash every copy
	BytesPerSec   float64 `json:"bytes_per_sec,omitempty"` // 0: unlimited
	ObjectsPerSec float64 `json:"objects_per_sec,omitempty"`
	Concurrency   int     `json:"concurrency,omitempty"`
	NoRoomRetry   string  `json:"no_room_retry,omitempty"` // Go duration; default 10m
	// BackoffMax caps how long a failing member waits between repair
	// attempts (Go duration; default 5m): a member back from an outage is
	// repaired at most this long after it returns.
	BackoffMax string `json:"backoff_max,omitempty"`
}

// RepairConfig returns the repair loop's configuration (nil if disabled).
func (fc FileConfig) RepairConfig() *RepairConfig {
	fr := fc.Repair
	if fr == nil {
		fr = &FileRepair{}
	}
	if fr.Disabled {
		return nil
	}
	rc := &RepairConfig{Scrub: fr.Scrub, BytesPerSec: fr.BytesPerSec, ObjectsPerSec: fr.ObjectsPerSec, Concurrency: fr.Concurrency}
	rc.ScanInterval, _ = time.ParseDuration(fr.ScanInterval)
	rc.NoRoomRetry, _ = time.ParseDuration(fr.NoRoomRetry)
	rc.BackoffMax, _ = time.ParseDuration(fr.BackoffMax)
	return rc
}

// FileRepo is a repository of the configuration file.
type FileRepo struct {
	Name        string       `json:"name"`
	Mode        string       `json:"mode"` // normal | mirror
	WriteQuorum int          `json:"write_quorum,omitempty"`
	Encrypted   bool         `json:"encrypted,omitempty"`
	Owner       string       `json:"owner,omitempty"` // owner address: an input of the encryption key
	Members     []FileMember `json:"members"`
}

// FileMember is a member reservation and the bridge key that reaches it.
type FileMember struct {
	ID              string  `json:"id"` // reservation id
	Endpoint        string  `json:"endpoint"`
	Region          string  `json:"region,omitempty"`
	AccessKeyID     string  `json:"access_key_id"`
	SecretAccessKey string  `json:"secret_access_key"`
	State           string  `json:"state,omitempty"` // active | joining | retiring
	Score           float64 `json:"score,omitempty"`
}

// FileKey is a repository access key.
type FileKey struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	Repo            string `json:"repo"`
	Perm            string `json:"perm"` // read | write | admin
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// LoadConfig reads and checks a configuration file.
func LoadConfig(path string) (FileConfig, error) {
	fc, err := ReadConfig(path)
	if err != nil {
		return FileConfig{}, err
	}
	if err := fc.Validate(); err != nil {
		return FileConfig{}, fmt.Errorf("gateway config %s: %w", path, err)
	}
	return fc, nil
}

// ReadConfig reads a configuration file without checking it (for callers
// that complete it from flags before Validate).
func ReadConfig(path string) (FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return FileConfig{}, fmt.Errorf("gateway config: %w", err)
	}
	var fc FileConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return FileConfig{}, fmt.Errorf("gateway config %s: %w", path, err)
	}
	return fc, nil
}

// ChainMode says the repositories and keys come from the chain.
func (fc FileConfig) ChainMode() bool { return fc.NodeURL != "" || fc.GatewayKeyFile != "" }

// Validate checks the configuration; the first problem is returned.
func (fc FileConfig) Validate() error {
	if fc.Listen == "" || fc.StateDir == "" {
		return fmt.Errorf("listen and state_dir are required")
	}
	durs := []string{fc.StallTimeout, fc.MaxUploadAge}
	if fc.Repair != nil {
		if fc.Repair.BytesPerSec < 0 || fc.Repair.ObjectsPerSec < 0 || fc.Repair.Concurrency < 0 {
			return fmt.Errorf("repair: rates and concurrency cannot be negative")
		}
		durs = append(durs, fc.Repair.ScanInterval, fc.Repair.NoRoomRetry, fc.Repair.BackoffMax)
	}
	for _, d := range durs {
		if d != "" {
			if v, err := time.ParseDuration(d); err != nil || v <= 0 {
				return fmt.Errorf("bad duration %q", d)
			}
		}
	}
	if fc.OwnerSecretFile != "" {
		if _, err := ReadSecretFile(fc.OwnerSecretFile); err != nil {
			return err
		}
	}
	if fc.ChainMode() {
		switch {
		case fc.NodeURL == "" || fc.GatewayKeyFile == "":
			return fmt.Errorf("node_url and gateway_key_file (repositories from the chain) go together")
		case len(fc.Repos) > 0 || len(fc.Keys) > 0:
			return fmt.Errorf("with node_url the repositories and keys come from the chain: do not list repos or keys")
		}
		return nil
	}
	repos := map[string]bool{}
	for _, r := range fc.Repos {
		if r.Encrypted && r.Owner == "" {
			return fmt.Errorf("repo %q: an encrypted repository needs its owner (the key derives from it)", r.Name)
		}
		if err := r.validate(); err != nil {
			return fmt.Errorf("repo %q: %w", r.Name, err)
		}
		if repos[r.Name] {
			return fmt.Errorf("repo %q listed twice", r.Name)
		}
		repos[r.Name] = true
	}
	keys := map[string]bool{}
	for _, k := range fc.Keys {
		switch {
		case k.AccessKeyID == "" || k.SecretAccessKey == "":
			return fmt.Errorf("a key needs access_key_id and secret_access_key")
		case !repos[k.Repo]:
			return fmt.Errorf("key %s: unknown repo %q", k.AccessKeyID, k.Repo)
		case k.Perm != PermRead && k.Perm != PermWrite && k.Perm != PermAdmin:
			return fmt.Errorf("key %s: perm must be read, write or admin, not %q", k.AccessKeyID, k.Perm)
		case keys[k.AccessKeyID]:
			return fmt.Errorf("key %s listed twice", k.AccessKeyID)
		}
		keys[k.AccessKeyID] = true
	}
	return nil
}

func (r FileRepo) validate() error {
	if !bucketName.MatchString(r.Name) {
		return fmt.Errorf("not a valid S3 bucket name")
	}
	if r.Mode != ModeNormal && r.Mode != ModeMirror {
		return fmt.Errorf("mode must be normal or mirror, not %q", r.Mode)
	}
	if len(r.Members) == 0 {
		return fmt.Errorf("no members")
	}
	if r.WriteQuorum < 0 || r.WriteQuorum > len(r.Members) {
		return fmt.Errorf("write_quorum %d is not between 1 and the %d members", r.WriteQuorum, len(r.Members))
	}
	ids := map[string]bool{}
	for _, m := range r.Members {
		switch {
		case m.ID == "" || m.Endpoint == "" || m.AccessKeyID == "" || m.SecretAccessKey == "":
			return fmt.Errorf("a member needs id, endpoint, access_key_id and secret_access_key")
		case ids[m.ID]:
			return fmt.Errorf("member %s listed twice", m.ID)
		case m.State != "" && m.State != MemberActive && m.State != MemberJoining && m.State != MemberRetiring:
			return fmt.Errorf("member %s: state must be active, joining or retiring", m.ID)
		}
		ids[m.ID] = true
	}
	return nil
}

// Directory returns the configured repositories and keys as a Directory.
func (fc FileConfig) Directory() *StaticDirectory {
	var repos []Repo
	for _, r := range fc.Repos {
		repo := Repo{Name: r.Name, Mode: r.Mode, WriteQuorum: r.WriteQuorum, Encrypted: r.Encrypted, Owner: r.Owner}
		for _, m := range r.Members {
			repo.Members = append(repo.Members, Member{ID: m.ID, Endpoint: m.Endpoint, Region: m.Region,
				AccessKeyID: m.AccessKeyID, Secret: m.SecretAccessKey, State: m.State, Score: m.Score})
		}
		repos = append(repos, repo)
	}
	var keys []Key
	for _, k := range fc.Keys {
		keys = append(keys, Key{AccessKeyID: k.AccessKeyID, Secret: k.SecretAccessKey, Repo: k.Repo, Perm: k.Perm})
	}
	return NewStaticDirectory(repos, keys)
}

// GatewayConfig returns the Config the file describes (with its static
// Directory).
func (fc FileConfig) GatewayConfig() Config {
	cfg := Config{Directory: fc.Directory(), StateDir: fc.StateDir, Region: fc.Region, VerifyBelow: fc.VerifyBelow,
		Repair: fc.RepairConfig(), AdminListen: fc.AdminListen}
	cfg.StallTimeout, _ = time.ParseDuration(fc.StallTimeout)
	cfg.MaxUploadAge, _ = time.ParseDuration(fc.MaxUploadAge)
	if fc.OwnerSecretFile != "" {
		cfg.OwnerSecret = SecretFile(fc.OwnerSecretFile)
	}
	return cfg
}
