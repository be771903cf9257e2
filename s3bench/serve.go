package s3bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/storage"
)

// ServedBridge is a bridge this process runs for the benchmark, over one
// storage backend, with one reservation (its bucket) and one write key.
type ServedBridge struct {
	Endpoint Endpoint
	b        *bridge.Bridge
	done     chan error
}

// ServeBridge starts a bridge on 127.0.0.1 (a free port) over be, serving
// one unlimited reservation named bucket to a fresh write key. Like a
// provider's bridge it signs a receipt for every write and delete (with a
// fresh key), so the figures include that work.
func ServeBridge(name string, be storage.Backend, bucket string) (*ServedBridge, error) {
	key := bridge.Key{AccessKeyID: "FBBENCH" + strings.ToUpper(randHex(6)), Secret: randHex(20), Bucket: bucket, Perm: bridge.PermWrite}
	_, receiptKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return ServeBridgeConfig(name, bridge.Config{
		Backend:      be,
		Keys:         bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: bucket, QuotaBytes: -1, EgressBytes: -1, Unit: "bench"}),
		ReceiptKey:   receiptKey, ChainID: "bench",
	}, key)
}

// ServeBridgeConfig starts a bridge with cfg on 127.0.0.1 (a free port);
// the endpoint names key (one of cfg.Keys) and its bucket. The listener is
// open before it returns, so clients may connect at once.
func ServeBridgeConfig(name string, cfg bridge.Config, key bridge.Key) (*ServedBridge, error) {
	b, err := bridge.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &ServedBridge{b: b, done: make(chan error, 1), Endpoint: Endpoint{
		Name: name, URL: "http://" + ln.Addr().String(), AccessKey: key.AccessKeyID, SecretKey: key.Secret, Bucket: key.Bucket,
	}}
	go func() { s.done <- b.Serve(ln) }()
	return s, nil
}

// Close stops the bridge.
func (s *ServedBridge) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.b.Shutdown(ctx)
	select {
	case serr := <-s.done:
		return errors.Join(err, serr)
	case <-ctx.Done():
		return errors.Join(err, ctx.Err())
	}
}
