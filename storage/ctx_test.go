package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

func TestDetach(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	d := detach(parent)
	if d.Value(ctxKey{}) != nil {
		t.Error("detached context exposes its parent's values")
	}
	if d.Err() != nil {
		t.Errorf("Err before cancel: %v", d.Err())
	}
	cancel()
	select {
	case <-d.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not reach the detached context")
	}
	if !errors.Is(d.Err(), context.Canceled) {
		t.Errorf("Err after cancel: %v", d.Err())
	}
	dl, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	dd := detach(dl)
	<-dd.Done()
	if !errors.Is(dd.Err(), context.DeadlineExceeded) {
		t.Errorf("Err after deadline: %v", dd.Err())
	}
	if _, ok := dd.Deadline(); !ok {
		t.Error("deadline lost")
	}
}

// parentNoErr is a context whose Err and Deadline must not be called after
// detach: fasthttp's request context races when they are called from the
// SDKs' goroutines.
type parentNoErr struct {
	context.Context
	t      *testing.T
	frozen bool
}

func (p *parentNoErr) Err() error {
	if p.frozen {
		p.t.Error("detached context called its parent's Err")
	}
	return p.Context.Err()
}

func (p *parentNoErr) Deadline() (time.Time, bool) {
	if p.frozen {
		p.t.Error("detached context called its parent's Deadline")
	}
	return p.Context.Deadline()
}

func TestDetachNeverCallsParent(t *testing.T) {
	inner, cancel := context.WithTimeout(context.Background(), time.Hour)
	p := &parentNoErr{Context: inner, t: t}
	d := detach(p)
	p.frozen = true
	if _, ok := d.Deadline(); !ok {
		t.Error("deadline lost")
	}
	cancel()
	<-d.Done()
	if !errors.Is(d.Err(), context.Canceled) {
		t.Errorf("Err after cancel: %v", d.Err())
	}
}
