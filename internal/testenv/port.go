package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on, for a
// process a test starts (and may restart on the same port). It is picked
// below the kernel's ephemeral range, where listen(":0") picks: there every
// outgoing connection of the machine (the tests' thousands to PostgreSQL
// and Kafka) may take the port between the pick and the bind, or while the
// process is down for a restart.
func FreePort(t testing.TB) int {
	t.Helper()
	const lowest = 20000
	if top := ephemeralStart() - 1; top > lowest {
		for range 100 {
			port := lowest + rand.IntN(top-lowest+1)
			if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				_ = l.Close()
				return port
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ephemeralStart is the first port of the kernel's ephemeral range (0 when
// unknown).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0
	}
	return n
}
