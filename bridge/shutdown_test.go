package bridge

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestShutdownBeforeServe: a Shutdown that comes before Serve has taken
// its listener (or before Serve is even called) still makes Serve return.
func TestShutdownBeforeServe(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for i := range 50 {
		b, err := New(Config{Backend: f.local, Keys: NewStaticKeys(), Reservations: NewStaticReservations()})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		serve := func() { done <- b.Serve(ln) }
		if i%2 == 0 {
			go serve()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := b.Shutdown(ctx); err != nil {
			t.Logf("round %d: shutdown: %v", i, err)
		}
		cancel()
		if i%2 == 1 {
			go serve() // Serve after Shutdown
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: Serve after Shutdown returned %v, want nil", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: Serve did not return after Shutdown", i)
		}
	}
}
