package repair

import (
	"fmt"
	"time"
)

// Config tunes a Repairer. Zero values take the defaults noted.
type Config struct {
	// Quorum is how many members must hold a version for it to be
	// authoritative (and below which a delete hint is applied). Default:
	// a majority of the members. Use the repository's write quorum.
	Quorum int
	// BytesPerSec caps the bytes repair reads (copies and scrubs); 0:
	// unlimited. BurstBytes is the bucket size (default 1 MiB, at least
	// one 64 KiB read).
	BytesPerSec float64
	BurstBytes  int64
	// ObjectsPerSec caps copies and deletes per second; 0: unlimited.
	ObjectsPerSec float64
	// Concurrency is how many copies run at once (default 4).
	Concurrency int
	// PageSize is the List page of a scan (default 1000).
	PageSize int
	// Scrub makes every full scan read and hash every copy (finds bytes
	// rotten on disk under a correct recorded checksum). Costs a full read
	// of the repository per scan, within BytesPerSec.
	Scrub bool
	// ScanInterval is the pause between two passes of Run (default 1m);
	// a new hint starts a pass at once.
	ScanInterval time.Duration
	// BackoffBase and BackoffMax bound the exponential backoff of a
	// failing member (defaults 1s and 5m).
	BackoffBase, BackoffMax time.Duration
	// NoRoomRetry is how long a member without room stays paused before
	// one more write is tried (default 10m).
	NoRoomRetry time.Duration
	// MaxHints bounds the hint queue (default 100000); hints beyond it are
	// dropped (and counted): scans find missing and bad copies anyway.
	MaxHints int
	// OnRepaired, if set, is called after each verified copy (for logs
	// and metrics; it must not block).
	OnRepaired func(member, key string, size int64)
	// OnUnresolved, if set, is called for each key a scan found without an
	// authoritative version, with the members holding a copy (the gateway
	// may clean up below-quorum leftovers of interrupted PUTs; repair
	// never does). It must not block.
	OnUnresolved func(key string, holders []string)
	// NoRoom classifies Put errors (default IsNoRoom).
	NoRoom func(error) bool
}

const readBuf = 64 << 10

func (c Config) withDefaults(members int) (Config, error) {
	if c.Quorum == 0 {
		c.Quorum = members/2 + 1
	}
	if c.Quorum < 1 || c.Quorum > members {
		return c, fmt.Errorf("repair: quorum %d for %d members", c.Quorum, members)
	}
	if c.BytesPerSec < 0 || c.ObjectsPerSec < 0 {
		return c, fmt.Errorf("repair: negative rate limit")
	}
	if c.BurstBytes <= 0 {
		c.BurstBytes = 1 << 20
	}
	c.BurstBytes = max(c.BurstBytes, readBuf)
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Concurrency, 4)
	def(&c.PageSize, 1000)
	def(&c.MaxHints, 100000)
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defd(&c.ScanInterval, time.Minute)
	defd(&c.BackoffBase, time.Second)
	defd(&c.BackoffMax, 5*time.Minute)
	defd(&c.NoRoomRetry, 10*time.Minute)
	if c.NoRoom == nil {
		c.NoRoom = IsNoRoom
	}
	return c, nil
}
