package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// The service starts while no broker answers at its address (a restart
// during a Kafka outage): it serves, registrations get 201, nothing panics,
// and once the broker is there every event goes out and reaches the read
// side. On kfake the broker starts later on that port; with KAFKA_BROKERS
// (CI's real Kafka) a forwarder to it opens there later.
func TestTheServiceStartsBeforeTheBroker(t *testing.T) {
	t.Parallel()
	addr, up := brokerLater(t)
	a := newTestAppWith(t, appSetup{Brokers: []string{addr}})
	a.run()
	eventID := a.openCampaign(ownerA, openNow())
	const n = 5
	for i := range n {
		if ans := a.call(http.MethodPost, participationsPath, "", aCustomer(i).body(eventID)); ans.Status != http.StatusCreated {
			t.Fatalf("registration %d with no broker → %d, want 201: %s", i, ans.Status, ans.Body)
		}
	}
	waitUntil(t, "the relay leading without a broker", func() error {
		if !a.svc.relay.Leader() || a.svc.relay.Connected() || a.svc.relay.Position() != 0 {
			return fmt.Errorf("leader %v, connected %v, position %d", a.svc.relay.Leader(), a.svc.relay.Connected(), a.svc.relay.Position())
		}
		return nil
	})
	if ans := a.call(http.MethodGet, "/healthz", "", nil); ans.Status != http.StatusOK {
		t.Fatalf("/healthz with no broker → %d, want 200", ans.Status)
	}
	up()
	head := a.head()
	waitUntil(t, "the relay publishing once the broker is up", func() error {
		if p := a.svc.relay.Position(); p != head {
			return fmt.Errorf("relay at %d of %d", p, head)
		}
		return nil
	})
	if got, want := len(wholeTopic(t, []string{addr}, a.topic)), n+1; got != want {
		t.Errorf("topic carries %d events, want %d (the campaign and its registrations)", got, want)
	}
	owner := a.ownerView(ownerA)
	waitUntil(t, "every registration on the read side", func() error {
		if p := readJSON[participantPage](owner, participantsPath(eventID, "size=1")); p.TotalCount != n {
			return fmt.Errorf("list: %d participants, want %d", p.TotalCount, n)
		}
		return nil
	})
}

// brokerLater returns a broker address where nothing answers until up().
func brokerLater(t *testing.T) (addr string, up func()) {
	t.Helper()
	port := freePort(t)
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	real := strings.TrimSpace(strings.Split(os.Getenv("KAFKA_BROKERS"), ",")[0])
	if real == "" {
		return addr, func() {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation())
			if err != nil {
				t.Fatalf("start kfake on port %d: %v", port, err)
			}
			t.Cleanup(c.Close)
		}
	}
	return addr, func() {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					upstream, err := net.Dial("tcp", real)
					if err != nil {
						return
					}
					defer upstream.Close()
					go func() { _, _ = io.Copy(upstream, c) }()
					_, _ = io.Copy(c, upstream)
				}()
			}
		}()
	}
}
