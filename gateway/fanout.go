package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// How a mirrored write streams (the fan-out):
//
// One reader takes the client's body in chunks of chunkSize from a
// free list of bufPerWrite buffers, hashes it (SHA-256) and hands each
// chunk to every member's queue (memberQueue deep); each member's upload
// frames the chunks it gets as aws-chunked and ends with the SHA-256 as
// trailing checksum, which the bridge verifies and stores. A buffer goes
// back to the free list when every member is done with it, so a write
// holds at most bufPerWrite × chunkSize bytes whatever the object's size.
//
// A slow member holds buffers and so slows the write to its pace; one that
// takes none for stallTimeout is dropped (its upload cancelled, the member
// recorded for repair) as long as the write quorum is left; otherwise the
// write waits for it (until the client's request is cancelled).
const (
	chunkSize   = 1 << 20
	bufPerWrite = 8
	memberQueue = 4
)

// chunk is one piece of the body shared by the members' uploads.
type chunk struct {
	buf  []byte
	n    int
	refs atomic.Int32
	free chan []byte
}

func (c *chunk) data() []byte { return c.buf[:c.n] }

func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		select {
		case c.free <- c.buf:
		default:
		}
	}
}

// fanout is one body streamed to several member uploads.
type fanout struct {
	stall time.Duration
	free  chan []byte
	lanes []*lane
	// end is set before the lanes' queues close: sum on success, err on
	// failure (the uploads then fail rather than commit).
	sum string
	err error
}

// lane is one member's side of a fanout.
type lane struct {
	id       string
	q        chan *chunk
	done     chan struct{} // closed when the member's upload returned
	consumed atomic.Int64
	dropped  atomic.Bool
	cancel   context.CancelFunc
	f        *fanout
}

func newFanout(ids []string, stall time.Duration) *fanout {
	f := &fanout{stall: stall, free: make(chan []byte, bufPerWrite)}
	for i := 0; i < bufPerWrite; i++ {
		f.free <- nil // allocated on first use
	}
	for _, id := range ids {
		f.lanes = append(f.lanes, &lane{id: id, q: make(chan *chunk, memberQueue), done: make(chan struct{}), f: f})
	}
	return f
}

// alive counts the lanes still taking chunks.
func (f *fanout) alive() int {
	n := 0
	for _, l := range f.lanes {
		if !l.dead() {
			n++
		}
	}
	return n
}

func (l *lane) dead() bool {
	if l.dropped.Load() {
		return true
	}
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

var errStalled = errors.New("member stalled: dropped from the write")

// drop stops a lane: its upload is cancelled.
func (l *lane) drop() {
	if l.dropped.CompareAndSwap(false, true) && l.cancel != nil {
		l.cancel()
	}
}

// run reads size bytes of body and feeds the lanes; quorum lanes must stay
// alive. It returns the base64 SHA-256 of the body. The lanes' queues are
// closed when it returns, whatever happened.
func (f *fanout) run(ctx context.Context, body io.Reader, size int64, quorum int) (string, error) {
	defer func() {
		for _, l := range f.lanes {
			close(l.q)
		}
	}()
	h := sha256.New()
	var read int64
	for read < size {
		buf, err := f.buffer(ctx, quorum)
		if err != nil {
			f.err = err
			return "", err
		}
		if buf == nil {
			buf = make([]byte, chunkSize)
		}
		n, err := io.ReadFull(body, buf[:min(int64(chunkSize), size-read)])
		if err != nil {
			f.free <- buf
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: the body ended after %d of %d bytes", errIncompleteBody, read+int64(n), size)
			}
			f.err = err
			return "", err
		}
		read += int64(n)
		h.Write(buf[:n])
		c := &chunk{buf: buf, n: n, free: f.free}
		c.refs.Store(1) // the reader's own, dropped after handing out
		for _, l := range f.lanes {
			if err := f.send(ctx, l, c, quorum); err != nil {
				c.release()
				f.err = err
				return "", err
			}
		}
		c.release()
		if f.alive() < quorum {
			f.err = errNoQuorum
			return "", f.err
		}
	}
	// Read to EOF: the client's body reader checks the client's own
	// checksum (header or trailer) there and fails the write if it is bad.
	if err := atEOF(body); err != nil {
		f.err = err
		return "", err
	}
	f.sum = base64.StdEncoding.EncodeToString(h.Sum(nil))
	return f.sum, nil
}

// atEOF checks that body ends here and reports what its reader says there.
func atEOF(body io.Reader) error {
	var one [1]byte
	for i := 0; i < 8; i++ {
		n, err := body.Read(one[:])
		if n > 0 {
			return fmt.Errorf("%w: the body is longer than its content length", errIncompleteBody)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var (
	errNoQuorum       = errors.New("write quorum lost")
	errIncompleteBody = errors.New("incomplete body")
)

// buffer takes a free buffer; if none comes back within the stall time,
// the lane furthest behind is dropped (if the quorum allows) and it waits
// on.
func (f *fanout) buffer(ctx context.Context, quorum int) ([]byte, error) {
	for {
		t := time.NewTimer(f.stall)
		select {
		case b := <-f.free:
			t.Stop()
			return b, nil
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
			f.dropSlowest(quorum)
		}
	}
}

func (f *fanout) dropSlowest(quorum int) {
	if f.alive() <= quorum {
		return
	}
	var slow *lane
	for _, l := range f.lanes {
		if !l.dead() && (slow == nil || l.consumed.Load() < slow.consumed.Load()) {
			slow = l
		}
	}
	if slow != nil {
		slow.drop()
	}
}

// send queues c on lane l (taking a reference for it).
func (f *fanout) send(ctx context.Context, l *lane, c *chunk, quorum int) error {
	if l.dead() {
		return nil
	}
	c.refs.Add(1)
	for {
		t := time.NewTimer(f.stall)
		select {
		case l.q <- c:
			t.Stop()
			return nil
		case <-l.done:
			t.Stop()
			c.release()
			return nil
		case <-ctx.Done():
			t.Stop()
			c.release()
			return ctx.Err()
		case <-t.C:
			if f.alive() > quorum {
				l.drop()
				c.release()
				return nil
			}
		}
	}
}

// finish is called by a lane's uploader when its upload returned: what is
// left in its queue is released.
func (l *lane) finish() {
	close(l.done)
	go func() {
		for c := range l.q {
			c.release()
		}
	}()
}

// body returns the aws-chunked request body of lane l.
func (l *lane) body() *chunkBody { return &chunkBody{l: l} }

// chunkBody frames a lane's chunks as an aws-chunked body with an
// SHA-256 trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
type chunkBody struct {
	mu     sync.Mutex
	l      *lane
	out    []byte // bytes of the frame being emitted
	pos    int
	closed bool
	eof    bool
}

func (b *chunkBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errors.New("body closed")
	}
	for b.pos >= len(b.out) {
		if b.eof {
			return 0, io.EOF
		}
		if err := b.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.out[b.pos:])
	b.pos += n
	return n, nil
}

// next prepares the next frame.
func (b *chunkBody) next() error {
	c, ok := <-b.l.q
	if !ok {
		f := b.l.f
		if f.err != nil || f.sum == "" || b.l.dropped.Load() {
			if f.err == nil {
				return errStalled
			}
			return f.err
		}
		b.out = []byte("0\r\nx-amz-checksum-sha256:" + f.sum + "\r\n\r\n")
		b.pos, b.eof = 0, true
		return nil
	}
	if b.l.dropped.Load() {
		c.release()
		return errStalled
	}
	// The frame is header + data + CRLF, copied out so that the shared
	// buffer goes back at once (a lane holds at most one frame).
	hdr := strconv.FormatInt(int64(c.n), 16) + "\r\n"
	b.out = append(append(append(b.out[:0], hdr...), c.data()...), "\r\n"...)
	b.pos = 0
	c.release()
	b.l.consumed.Add(1)
	return nil
}

// Close releases what the body holds; the transport calls it when done.
func (b *chunkBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.out = nil
	return nil
}

// encodedLen is the length of the aws-chunked encoding of size bytes.
func encodedLen(size int64) int64 {
	var n int64
	for left := size; left > 0; left -= chunkSize {
		s := min(left, chunkSize)
		n += int64(len(strconv.FormatInt(s, 16))) + 2 + s + 2
	}
	return n + int64(len("0\r\nx-amz-checksum-sha256:")) + 44 + 4
}
