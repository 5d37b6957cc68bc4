package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/api/apitest"
)

// Test 6: the analytics stream sends the current figures at once, again
// after every registration, to every subscriber, and ends on the server when
// the client goes.
func TestSSEStreamsLiveAnalytics(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.run()
	owner := a.ownerView(ownerA)
	eventID := a.openCampaign(ownerA, openNow())
	regs := []registered{a.registerCustomer(eventID, aCustomer(0), ""), a.registerCustomer(eventID, aCustomer(1), "")}
	waitUntil(t, "the first registrations in the analytics", func() error {
		if an := readJSON[analyticsView](owner, analyticsPath(eventID)); an.TotalParticipants != 2 {
			return fmt.Errorf("%d participants", an.TotalParticipants)
		}
		return nil
	})

	first := a.openStream(eventID)
	if diff := gocmp.Diff(readJSON[analyticsView](owner, analyticsPath(eventID)), first.figures(t)); diff != "" {
		t.Errorf("first stream: figures on connect differ from GET analytics (-get +stream):\n%s", diff)
	}
	// Live: a registration reaches the open stream.
	regs = append(regs, a.registerCustomer(eventID, aCustomer(2), ""))
	first.until(t, 3, regs[2].customer.storedPath())

	// The service's change listener runs now (the first stream saw a change),
	// so the second stream gets figures before any further change only if
	// they are sent at once on connect.
	second := a.openStream(eventID)
	if diff := gocmp.Diff(readJSON[analyticsView](owner, analyticsPath(eventID)), second.figures(t)); diff != "" {
		t.Errorf("second stream: figures on connect differ from GET analytics (-get +stream):\n%s", diff)
	}
	regs = append(regs, a.registerCustomer(eventID, aCustomer(3), ""))
	for _, s := range []*sseStream{first, second} {
		s.until(t, 4, regs[3].customer.storedPath())
		// The bytes so far are an answer of this operation.
		apitest.ValidateResponse(t, a.spec, s.req, &http.Response{StatusCode: s.resp.StatusCode, Header: s.resp.Header,
			Body: io.NopCloser(strings.NewReader(s.raw()))})
		owner.keep("analytics stream", []byte(s.raw()))
	}

	for _, s := range []*sseStream{first, second} {
		s.cancel()
		s.waitClosed(t)
		waitUntil(t, "the server ending the stream", func() error {
			for line := range strings.Lines(a.logs.String()) {
				var entry struct {
					Msg           string `json:"msg"`
					Route         string `json:"route"`
					CorrelationID string `json:"correlation_id"`
				}
				if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "http request" &&
					entry.CorrelationID == s.correlation && entry.Route == "/api/v1/events/:eventId/analytics/stream" {
					return nil
				}
			}
			return fmt.Errorf("no request line for the stream %s yet", s.correlation)
		})
		for line := range strings.Lines(a.logs.above(slog.LevelInfo)) {
			if strings.Contains(line, s.correlation) {
				t.Errorf("the stream's end was logged above info: %s", line)
			}
		}
	}
	owner.assertNoPersonalData(t, customersOf(regs))
}

// --- Server-Sent Events ---

// sseStream is an open analytics stream read in the background.
type sseStream struct {
	*sseReader
	a           *testApp
	eventID     uuid.UUID
	req         *http.Request
	resp        *http.Response
	cancel      context.CancelFunc
	correlation string
	last        analyticsView
}

// openStream opens the campaign's analytics stream as its owner; the test's
// end closes it.
func (a *testApp) openStream(eventID uuid.UUID) *sseStream {
	t := a.t
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := a.request(http.MethodGet, analyticsPath(eventID)+"/stream", token(t, ownerA), nil)
	if err != nil {
		t.Fatal(err)
	}
	req = req.WithContext(ctx)
	correlation := "sse-" + uuid.NewString()
	req.Header.Set(api.CorrelationHeader, correlation)
	resp, err := (&http.Client{Transport: a.client.Transport}).Do(req) // no client timeout: a stream lasts
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("stream: status %d, Content-Type %q; want 200 text/event-stream: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return &sseStream{sseReader: readSSE(resp.Body), a: a, eventID: eventID, req: req, resp: resp, cancel: cancel, correlation: correlation}
}

// figures is the next analytics event, checked against the spec.
func (s *sseStream) figures(t *testing.T) analyticsView {
	t.Helper()
	ev := s.next(t)
	if ev.name != "analytics" {
		t.Errorf("stream event name = %q, want analytics", ev.name)
	}
	s.a.checkAnalyticsJSON(s.eventID, ev.data)
	got := decode[analyticsView](t, answer{Body: []byte(ev.data)})
	if got.TotalParticipants < s.last.TotalParticipants {
		t.Errorf("stream went back from %d to %d participants", s.last.TotalParticipants, got.TotalParticipants)
	}
	s.last = got
	return got
}

// until reads figures until they show total participants, the last one
// registered on channel.
func (s *sseStream) until(t *testing.T, total int64, channel string) {
	t.Helper()
	before := s.last
	for s.last.TotalParticipants != total {
		s.figures(t)
	}
	if got, want := s.last.ByChannel[channel], before.ByChannel[channel]+1; got != want {
		t.Errorf("stream byChannel[%s] = %d, want %d (%v after %v)", channel, got, want, s.last.ByChannel, before.ByChannel)
	}
}

type sseEvent struct{ name, data string }

// sseReader parses a stream in the background: events go to a channel,
// comments (keep-alives) are dropped, and the bytes read are kept.
type sseReader struct {
	events chan sseEvent
	done   chan struct{}

	mu  sync.Mutex
	buf strings.Builder
	err error
}

func readSSE(body io.Reader) *sseReader {
	s := &sseReader{events: make(chan sseEvent, 64), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.events)
		r := bufio.NewReader(body)
		var ev sseEvent
		var data []string
		for {
			line, err := r.ReadString('\n')
			s.mu.Lock()
			s.buf.WriteString(line)
			s.err = err
			s.mu.Unlock()
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if len(data) > 0 {
					ev.data = strings.Join(data, "\n")
					s.events <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			}
		}
	}()
	return s
}

// next is the next event, waiting at most waitLimit.
func (s *sseReader) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.mu.Lock()
			defer s.mu.Unlock()
			t.Fatalf("stream ended: %v (read %q)", s.err, s.buf.String())
		}
		return ev
	case <-time.After(waitLimit):
		t.Fatalf("no stream event within %s (read %q)", waitLimit, s.raw())
	}
	return sseEvent{}
}

func (s *sseReader) raw() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitClosed waits for the reader to stop after the request was cancelled.
func (s *sseReader) waitClosed(t *testing.T) {
	t.Helper()
	go func() {
		for range s.events { // drain what came after the last event read
		}
	}()
	select {
	case <-s.done:
	case <-time.After(waitLimit):
		t.Fatalf("the stream still reads %s after the client cancelled", waitLimit)
	}
}
