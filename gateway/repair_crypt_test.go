package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashback-network/flashback/objcrypt"
)

// TestRepairLoopEncryptedRepository: in an encrypted repository the
// members hold objcrypt ciphertext; the repair loop copies it as stored
// (it has no key and needs none), so the lagging member ends up with the
// same ciphertext byte for byte and no plaintext on its disk.
func TestRepairLoopEncryptedRepository(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	r := f.repo
	r.Encrypted = true
	f.setRepo(r)
	mk, err := objcrypt.DeriveMasterKey(bytes.Repeat([]byte{7}, 32), "fb1owner", "photos")
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("secret plaintext that no provider may see. "), 30000)
	er, err := objcrypt.NewEncryptReader(mk, "album/a.jpg", bytes.NewReader(plain), 0)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(er)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(ct)
	// The ciphertext goes to two members the way the gateway writes
	// (streamed upload with its trailing sha256).
	for _, m := range f.repo.Members[:2] {
		mc := &memberCopy{g: f.gw, m: m}
		if err := mc.Put(context.Background(), "album/a.jpg", bytes.NewReader(ct), int64(len(ct)), sum[:]); err != nil {
			t.Fatal(err)
		}
	}
	f.startRepairing(fastRepair())
	lag := f.members[2]
	waitStatus(t, f.gw, "photos", 60*time.Second, func(st RepoRepairStatus) bool {
		m := memberLine(st, lag.id)
		return m.Level && m.RepairedObjects == 1
	})
	holdsExactly(t, lag, map[string][]byte{"album/a.jpg": ct})
	filepath.Walk(lag.root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("secret plaintext")) {
				t.Errorf("plaintext on the member's disk: %s", p)
			}
		}
		return nil
	})
}
