package storage

import (
	"context"
	"time"
)

// detached is a context with its parent's deadline and cancellation but
// none of its values. The bridge's request contexts are fasthttp request
// objects, reused for the next request on the connection once a handler
// returns, and not synchronized for use from other goroutines: net/http
// (under the S3, Azure and GCS SDKs) calls Value and Done on a call's
// context from its own goroutines, even after the call returned, which
// races with that reuse and with the server's shutdown. So the backends'
// network calls never see the caller's values (they need none), and the
// parent's Done channel is read once, on the caller's goroutine.
type detached struct {
	context.Context
	done        <-chan struct{}
	deadline    time.Time
	hasDeadline bool
}

func (detached) Value(any) any { return nil }

func (d detached) Done() <-chan struct{} { return d.done }

func (d detached) Deadline() (time.Time, bool) { return d.deadline, d.hasDeadline }

// Err never calls the parent (it runs on the SDKs' goroutines too): a
// closed Done is a deadline when one was set and has passed, else a
// cancellation.
func (d detached) Err() error {
	select {
	case <-d.done:
		if d.hasDeadline && !time.Now().Before(d.deadline) {
			return context.DeadlineExceeded
		}
		return context.Canceled
	default:
		return nil
	}
}

// detach wraps ctx for a backend's network calls (see detached).
func detach(ctx context.Context) context.Context {
	if _, ok := ctx.(detached); ok {
		return ctx
	}
	dl, ok := ctx.Deadline()
	return detached{Context: ctx, done: ctx.Done(), deadline: dl, hasDeadline: ok}
}

// Detach is detach for callers that hand one context to several goroutines
// of their own (the bridge's concurrent backend reads): call it on the
// goroutine that owns ctx.
func Detach(ctx context.Context) context.Context { return detach(ctx) }
