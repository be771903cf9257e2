package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/flashback-network/flashback/client"
)

// progressBar draws one transfer's progress on stderr when stderr is a
// terminal; otherwise it does nothing.
type progressBar struct {
	mu         sync.Mutex
	w          io.Writer
	label      string
	start      time.Time
	last       time.Time
	done, tot  int64
	drawn, off bool
}

func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

func newProgress(label string) *progressBar {
	return &progressBar{w: os.Stderr, label: label, start: time.Now(), off: !stderrIsTerminal()}
}

// update is a client.Progress.
func (p *progressBar) update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return
	}
	p.done, p.tot = done, total
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
}

func (p *progressBar) progress() client.Progress {
	if p.off {
		return nil
	}
	return p.update
}

func (p *progressBar) draw() {
	label := p.label
	if r := []rune(label); len(r) > 32 {
		label = "…" + string(r[len(r)-31:])
	}
	el := time.Since(p.start).Seconds()
	rate := ""
	if el > 0.2 {
		rate = bytesHuman(uint64(float64(p.done)/el)) + "/s"
	}
	width := 30
	if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w < 100 {
		width = max(10, w-70)
	}
	var line string
	if p.tot > 0 {
		frac := min(1, float64(p.done)/float64(p.tot))
		fill := int(frac * float64(width))
		bar := strings.Repeat("=", fill)
		if fill < width {
			bar += ">" + strings.Repeat(" ", width-fill-1)
		}
		line = fmt.Sprintf("%-32s [%s] %3.0f%% %s / %s  %s", label, bar, frac*100, bytesHuman(uint64(p.done)), bytesHuman(uint64(p.tot)), rate)
	} else {
		line = fmt.Sprintf("%-32s %s  %s", label, bytesHuman(uint64(max(p.done, 0))), rate)
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
}

// finish draws the final state and ends the line (ok) or clears it.
func (p *progressBar) finish(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off || !p.drawn && !ok {
		return
	}
	if ok {
		if p.tot >= 0 {
			p.done = max(p.done, p.tot)
		}
		p.draw()
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
}

// setLabel changes what the bar is about (files done of total).
func (p *progressBar) setLabel(l string) {
	p.mu.Lock()
	p.label = l
	p.mu.Unlock()
}

// clearLine erases the bar so a line of output can be printed; the next
// update draws it again.
func (p *progressBar) clearLine() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.off && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
