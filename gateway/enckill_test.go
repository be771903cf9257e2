package gateway

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// killProxy forwards TCP to a bridge until kill, which closes the listener
// and every connection at once: the member is gone mid-response.
type killProxy struct {
	ln    net.Listener
	to    string
	mu    sync.Mutex
	conns []net.Conn
}

func newKillProxy(t *testing.T, to string) *killProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &killProxy{ln: ln, to: strings.TrimPrefix(to, "http://")}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.to)
			if err != nil {
				c.Close()
				continue
			}
			// Small socket buffers: the gateway cannot read far ahead of
			// its client through kernel buffers, so a kill after the
			// client's first 2 MiB always lands mid-stream (with default
			// loopback buffers it sometimes came after the last byte).
			for _, conn := range []net.Conn{c, s} {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetReadBuffer(32 << 10)
					_ = tc.SetWriteBuffer(32 << 10)
				}
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

func (p *killProxy) kill() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// The member serving an encrypted GET is killed after the client has read
// 2 MiB: the rest comes from the others, exact.
func TestEncryptedMemberKilledMidGet(t *testing.T) {
	f := newEncFixture(t)
	c := f.client(PermWrite)
	single := markedBytes(12<<20 + 3)
	multi := markedBytes(5<<20 + 5<<20 + 2<<20)
	mustPut(t, c, "photos", "single", single)
	multipartPut(t, c, "photos", "multi", multi, 5<<20)
	orig := f.repo
	for _, tc := range []struct {
		key, rng string
		want     []byte
	}{{"single", "", single}, {"multi", "", multi}, {"multi", "bytes=1000000-11000000", multi[1000000:11000001]}} {
		p := newKillProxy(t, f.members[2].url)
		r := orig
		r.Members = append([]Member(nil), orig.Members...)
		r.Members[2].Endpoint, r.Members[2].Score = p.url(), 90
		f.setRepo(r)
		f.start() // fresh latency figures: the score decides
		c = f.client(PermRead)
		in := &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(tc.key)}
		if tc.rng != "" {
			in.Range = aws.String(tc.rng)
		}
		out, err := c.GetObject(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 2<<20)
		if _, err := io.ReadFull(out.Body, head); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		served := len(p.conns) > 0
		p.mu.Unlock()
		if !served {
			t.Fatalf("%s: the proxied member was not read from", tc.key)
		}
		p.kill()
		rest, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: after the kill: %v", tc.key, tc.rng, err)
		}
		if got := append(head, rest...); !bytes.Equal(got, tc.want) {
			t.Fatalf("%s %s: %d bytes, want %d (content differs)", tc.key, tc.rng, len(got), len(tc.want))
		}
		// The gateway's stream from the killed member broke (it counted a
		// failure), so the rest really came from another member.
		f.gw.health.mu.Lock()
		failed := f.gw.health.ewma["res-3"].v >= failPenalty*ewmaAlpha
		f.gw.health.mu.Unlock()
		if !failed {
			t.Fatalf("%s %s: the kill came after the gateway had read everything from the member", tc.key, tc.rng)
		}
	}
	if recs, _ := ReadRepairQueue(f.state); len(recs) != 0 {
		t.Fatalf("a killed member's read queued repairs: %+v", recs)
	}
}

func (p *killProxy) url() string { return "http://" + p.ln.Addr().String() }
