package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

type hourJSON struct {
	Hour  string `json:"hour"` // RFC 3339 in Asia/Seoul: always +09:00
	Count int64  `json:"count"`
}

type analyticsJSON struct {
	EventID           uuid.UUID        `json:"eventId"`
	TotalParticipants int64            `json:"totalParticipants"`
	ByChannel         map[string]int64 `json:"byChannel"`
	ByHour            []hourJSON       `json:"byHour"`
	StoreVisits       int64            `json:"storeVisits"`
	Winners           int64            `json:"winners"`
	Claimed           int64            `json:"claimed"` // winners who claimed their prize
	UpdatedAt         time.Time        `json:"updatedAt"`
}

func analyticsOf(eventID uuid.UUID, a Analytics) analyticsJSON {
	out := analyticsJSON{
		EventID:           eventID,
		TotalParticipants: a.TotalParticipants,
		ByChannel:         make(map[string]int64, len(a.ByChannel)),
		ByHour:            make([]hourJSON, 0, len(a.ByHour)),
		StoreVisits:       a.StoreVisits,
		Winners:           a.Winners,
		Claimed:           a.Claimed,
		UpdatedAt:         a.UpdatedAt,
	}
	for ch, n := range a.ByChannel {
		out.ByChannel[ch] = n
	}
	hours := append([]HourCount(nil), a.ByHour...)
	sort.Slice(hours, func(i, j int) bool { return hours[i].Hour.Before(hours[j].Hour) })
	for _, h := range hours {
		out.ByHour = append(out.ByHour, hourJSON{
			Hour:  h.Hour.In(seoul).Truncate(time.Hour).Format(time.RFC3339),
			Count: h.Count,
		})
	}
	return out
}

func (s *server) analytics(c *gin.Context) {
	eventID, ok := s.ownedEvent(c)
	if !ok {
		return
	}
	a, err := s.queries.Analytics(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, analyticsOf(eventID, a))
}

// streamAnalytics sends the figures at once, then after every change
// (changes within SSECoalesce make one update), with keep-alive comments.
// An owner holds at most MaxStreamsPerOwner streams; every stream ends when
// the server shuts down (Config.Closing).
func (s *server) streamAnalytics(c *gin.Context) {
	eventID, ok := s.ownedEvent(c)
	if !ok {
		return
	}
	owner := ownerOf(c)
	if !s.streams.acquire(owner) {
		c.Header("Retry-After", "5")
		s.writeError(c, errTooManyStreams)
		return
	}
	defer s.streams.release(owner)
	ctx := c.Request.Context()
	// Subscribe before the first read so no change falls in between.
	changes, unsubscribe := s.queries.SubscribeAnalytics(ctx, eventID)
	defer unsubscribe()
	first, err := s.queries.Analytics(ctx, eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	stream := s.startStream(c)
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)

	send := func(a Analytics) error {
		b, err := json.Marshal(analyticsOf(eventID, a))
		if err != nil {
			return err
		}
		stream.arm()
		if _, err := fmt.Fprintf(c.Writer, "event: analytics\ndata: %s\n\n", b); err != nil {
			return err
		}
		return stream.flush()
	}
	if err := send(first); err != nil {
		return
	}
	keepAlive := time.NewTicker(s.cfg.SSEKeepAlive)
	defer keepAlive.Stop()
	var due <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.cfg.Closing:
			return
		case _, open := <-changes:
			if !open {
				return
			}
			if due == nil {
				due = time.After(s.cfg.SSECoalesce)
			}
		case <-due:
			due = nil
			a, err := s.queries.Analytics(ctx, eventID)
			if err != nil {
				if ctx.Err() == nil {
					s.logger.LogAttrs(ctx, slog.LevelError, "analytics stream ended",
						slog.String("correlation_id", correlationID(c)), slog.String("error", err.Error()))
				}
				return
			}
			if err := send(a); err != nil {
				return
			}
		case <-keepAlive.C:
			stream.arm()
			if _, err := fmt.Fprint(c.Writer, ": keep-alive\n\n"); err != nil {
				return
			}
			if err := stream.flush(); err != nil {
				return
			}
		}
	}
}
