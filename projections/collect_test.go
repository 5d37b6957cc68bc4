package projections

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

func TestCollectLingersOnlyWhileMessagesKeepComing(t *testing.T) {
	cases := []struct {
		name     string
		queued   int           // in the channel before collect starts
		later    int           // sent after a pause, one right after another
		pause    time.Duration // before the later ones
		close    bool          // the channel closes after the queued ones
		linger   time.Duration
		limit    int
		want     int
		wantOpen bool
	}{
		{name: "a_lone_message_at_idle_goes_at_once", queued: 1, later: 1, pause: 200 * time.Millisecond,
			linger: time.Minute, limit: 10, want: 1, wantOpen: true},
		{name: "behind_the_topic_it_takes_what_keeps_coming", queued: 2, later: 8, pause: 100 * time.Millisecond,
			linger: time.Minute, limit: 10, want: 10, wantOpen: true},
		{name: "it_stops_at_the_limit", queued: 3, later: 20, pause: 50 * time.Millisecond,
			linger: time.Minute, limit: 5, want: 5, wantOpen: true},
		{name: "it_stops_when_messages_stop_coming", queued: 3, linger: 100 * time.Millisecond, limit: 10, want: 3, wantOpen: true},
		{name: "no_linger_when_negative", queued: 2, later: 1, pause: 200 * time.Millisecond,
			linger: -1, limit: 10, want: 2, wantOpen: true},
		{name: "a_closed_channel_hands_over_what_it_had", queued: 2, close: true, linger: time.Minute, limit: 10, want: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			msgs := make(chan *message.Message, c.queued+c.later)
			for i := range c.queued {
				msgs <- message.NewMessage(strconv.Itoa(i), nil)
			}
			if c.close {
				close(msgs)
			}
			go func() {
				time.Sleep(c.pause)
				for i := range c.later {
					msgs <- message.NewMessage(strconv.Itoa(c.queued+i), nil)
				}
			}()
			batch, open := collect(context.Background(), msgs, nil, c.limit, c.linger)
			if len(batch) != c.want || open != c.wantOpen {
				t.Fatalf("collect = %d messages (open %v), want %d (open %v)", len(batch), open, c.want, c.wantOpen)
			}
			for i, m := range batch {
				if m.UUID != strconv.Itoa(i) {
					t.Fatalf("message %d is %s: out of order", i, m.UUID)
				}
			}
		})
	}
}
