package main

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// countedConn gives its connection back to the count once, however often it
// is closed.
type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// newCountingClient is newClient whose open connections are counted: each is a
// goroutine in the server that belongs to the client, not to the service (the
// soak tells the two apart).
func newCountingClient(conns int) (*http.Client, *atomic.Int64) {
	open := new(atomic.Int64)
	client := newClient(conns)
	var dialer net.Dialer
	client.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		open.Add(1)
		return &countedConn{Conn: c, open: open}, nil
	}
	return client, open
}
