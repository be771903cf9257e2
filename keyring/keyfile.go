package keyring

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"

	"github.com/flashback-network/flashback/address"
)

const (
	fileVersion  = 1
	fileExt      = ".key"
	fileADPrefix = "flashback-keyring-v1\x00"
)

// keyFile is the on-disk JSON document of one key.
type keyFile struct {
	Version   int            `json:"version"`
	Name      string         `json:"name"`
	Address   string         `json:"address"`
	PubKey    []byte         `json:"pub_key"`
	Encrypted bool           `json:"encrypted"`
	Seed      []byte         `json:"seed,omitempty"`   // unencrypted keys only
	Crypto    *cryptoSection `json:"crypto,omitempty"` // encrypted keys only
}

func (kf *keyFile) public() Key {
	return Key{
		Name:      kf.Name,
		Address:   kf.Address,
		PubKey:    ed25519.PublicKey(slices.Clone(kf.PubKey)),
		Encrypted: kf.Encrypted,
	}
}

// maxKeyFileSize bounds how much of a key file is read.
const maxKeyFileSize = 64 << 10

func (k *Keyring) load(name string) (*keyFile, error) {
	p := k.path(name)
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", p, err)
	}
	defer wipe(data)
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("keyring: key file %s is corrupt: larger than %d bytes", p, maxKeyFileSize)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("keyring: key file %s is corrupt: %w", p, err)
	}
	if err := kf.validate(name); err != nil {
		wipe(kf.Seed)
		return nil, fmt.Errorf("keyring: key file %s is corrupt: %w", p, err)
	}
	return &kf, nil
}

func (kf *keyFile) validate(name string) error {
	if kf.Version != fileVersion {
		return fmt.Errorf("unsupported version %d (want %d)", kf.Version, fileVersion)
	}
	if kf.Name != name {
		return fmt.Errorf("file records name %q, want %q", kf.Name, name)
	}
	if len(kf.PubKey) != ed25519.PublicKeySize {
		return fmt.Errorf("public key is %d bytes, want %d", len(kf.PubKey), ed25519.PublicKeySize)
	}
	if want := address.FromPubKey(kf.PubKey); kf.Address != want {
		return fmt.Errorf("address %q does not match public key (want %q)", kf.Address, want)
	}
	if kf.Encrypted {
		if kf.Crypto == nil {
			return errors.New(`"encrypted" is true but "crypto" is missing`)
		}
		if len(kf.Seed) != 0 {
			return errors.New(`"encrypted" is true but a clear seed is present`)
		}
		return kf.Crypto.validate()
	}
	if kf.Crypto != nil {
		return errors.New(`"encrypted" is false but "crypto" is present`)
	}
	if len(kf.Seed) != ed25519.SeedSize {
		return fmt.Errorf("seed is %d bytes, want %d", len(kf.Seed), ed25519.SeedSize)
	}
	return nil
}

// fileAD is the additional data authenticated with a key file's ciphertext.
func fileAD(name string, pub []byte) []byte {
	ad := make([]byte, 0, len(fileADPrefix)+len(name)+1+len(pub))
	ad = append(ad, fileADPrefix...)
	ad = append(ad, name...)
	ad = append(ad, 0)
	return append(ad, pub...)
}

// writeNew atomically creates path with data and mode 0600: it writes and
// fsyncs a temporary file in dir, then links it into place, failing with an
// error matching fs.ErrExist if path already exists.
func writeNew(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName)
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return err
	}
	tmp = nil

	// A hard link never replaces an existing file, which makes the
	// existence check atomic across processes. Fall back to check-then-rename
	// on file systems without hard links.
	if lerr := os.Link(tmpName, path); lerr != nil {
		if errors.Is(lerr, fs.ErrExist) {
			return lerr
		}
		if _, serr := os.Lstat(path); serr == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		} else if !errors.Is(serr, fs.ErrNotExist) {
			return serr
		}
		if err := os.Rename(tmpName, path); err != nil {
			return err
		}
	}
	syncDir(dir)
	return nil
}

// syncDir fsyncs a directory so that a rename or link in it is durable. It
// is best effort: not every platform supports syncing directories.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
