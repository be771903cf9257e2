package chain_test

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// freePort returns a base port p with p..p+2 free on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 30000 + int(time.Now().UnixNano()%20000)
		ok := true
		for p := base; p < base+3; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}
