package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The long-key suite over a local backend wrapped with a 300-byte name
// limit: the wrapper's mapping, listing merge and copy fallback (the
// local backend has no copyWithMeta) without a service.
func TestLongKeysWrapped(t *testing.T) {
	runLongKeys(t, func(t *testing.T) Backend {
		l, err := NewLocal(LocalConfig{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		b, err := wrapLongKeys(l, 300)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// The wrapper offers Uploader and Replacer exactly when what it wraps
// does (the bridge picks its write and multipart paths by them), and
// always Composer and io.Closer.
func TestLongKeysInterfaces(t *testing.T) {
	l, err := NewLocal(LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewS3(context.Background(), S3Config{Endpoint: "http://127.0.0.1:9", Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		inner         Backend
		upload, reply bool
	}{{"local", l, false, true}, {"s3", s, true, true}} {
		b, err := wrapLongKeys(c.inner, 1000)
		if err != nil {
			t.Fatal(err)
		}
		_, up := b.(Uploader)
		_, rep := b.(Replacer)
		_, comp := b.(Composer)
		if up != c.upload || rep != c.reply || !comp || innerOf(b) != c.inner {
			t.Errorf("%s: Uploader %v Replacer %v Composer %v, want %v %v true", c.name, up, rep, comp, c.upload, c.reply)
		}
	}
	b, err := New(Config{Kind: KindS3, S3: &S3Config{Endpoint: "http://127.0.0.1:9", Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.(Uploader); !ok || innerOf(b) == b {
		t.Errorf("New(s3) = %T, want a wrapped S3 offering Uploader", b)
	}
	if _, err := New(Config{Kind: KindS3, S3: &S3Config{Bucket: "b", Prefix: strings.Repeat("p/", 450), AccessKeyID: "k", SecretAccessKey: "s"}}); err == nil {
		t.Error("a prefix leaving no room for names accepted")
	}
}

// Hidden names fit the limit, keep the key's head cut at a rune
// boundary, and are refused as keys.
func TestLongKeysNames(t *testing.T) {
	l, err := NewLocal(LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := newLongKeys(l, 300)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{strings.Repeat("a", 301), strings.Repeat("文", 101), "x/" + strings.Repeat("é", 200), strings.Repeat("b", MaxStoredKeyLen)} {
		name, err := w.stored(k)
		if err != nil {
			t.Fatal(err)
		}
		if len(name) > 300 || !strings.HasPrefix(name, longKeyDir) || ValidateKey(name) != nil {
			t.Errorf("%d-byte key -> %d-byte name %q", len(k), len(name), name)
		}
		head := strings.TrimPrefix(name, longKeyDir)[:len(name)-len(longKeyDir)-longNameSuffix]
		if !strings.HasPrefix(k, head) || len(head) < w.groupLen {
			t.Errorf("%d-byte key: head of %d bytes is not its start (group %d)", len(k), len(head), w.groupLen)
		}
		if got, ok := w.keyOf(name, w.withKey(k, ObjectMeta{}).UserMeta); !ok || got != k {
			t.Errorf("%d-byte key not recovered from its name and tail", len(k))
		}
	}
	if name, _ := w.stored(strings.Repeat("s", 300)); name != strings.Repeat("s", 300) {
		t.Errorf("a key that fits is stored as %q", name)
	}
	if _, err := w.stored(longKeyDir + "x"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("key under %s: %v", longKeyDir, err)
	}
}
