package api

import (
	"bufio"
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

// Certificates is the public draw certificate's source; nil answers 503.
// commands.Certificates is the real one (it reads the draw's stream, and the
// candidates at the cut-off, from the event store).
type Certificates interface {
	// DrawCertificate returns commands.ErrNotDrawn before the commit.
	DrawCertificate(ctx context.Context, eventID uuid.UUID) (domain.DrawCertificate, error)
	// EachDrawLeaf streams the leaves in tree order: commands.ErrNotAnnounced
	// before announceAt, commands.ErrNoPublicLeaves for a v1 draw.
	EachDrawLeaf(ctx context.Context, eventID uuid.UUID, fn func(domain.DrawLeafLine) error) error
}

// drawCertificate is the public certificate: no name, phone, entry number
// or participant id, only what the commit and the result made public.
func (s *server) drawCertificate(c *gin.Context) {
	eventID, ok := s.publicEvent(c)
	if !ok {
		return
	}
	cert, err := s.cfg.Certificates.DrawCertificate(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, cert)
}

// drawLeaves streams the leaves as JSON lines in constant memory.
func (s *server) drawLeaves(c *gin.Context) {
	eventID, ok := s.publicEvent(c)
	if !ok {
		return
	}
	select {
	case s.leaves <- struct{}{}:
		defer func() { <-s.leaves }()
	default:
		c.Header("Retry-After", "5")
		s.writeError(c, errUnavailable)
		return
	}
	c.Header("Content-Type", "application/x-ndjson")
	c.Header("Content-Disposition", `attachment; filename="draw-leaves-`+eventID.String()+`.jsonl"`)
	// Lines stay in the buffer until it fills, so a refusal (not announced
	// yet) is still a clean JSON error.
	stream := s.startStream(c)
	buf := bufio.NewWriterSize(deadlineWriter{c.Writer, stream}, 64<<10)
	var line []byte
	err := s.cfg.Certificates.EachDrawLeaf(c.Request.Context(), eventID, func(l domain.DrawLeafLine) error {
		line = append(line[:0], `{"index":`...)
		line = strconv.AppendInt(line, int64(l.Index), 10)
		line = append(line, `,"leafHash":"`...)
		line = append(line, l.LeafHash...) // hex: nothing to escape
		line = append(line, `","weight":`...)
		line = strconv.AppendUint(line, uint64(l.Weight), 10)
		line = append(line, "}\n"...)
		_, err := buf.Write(line)
		return err
	})
	if err == nil {
		err = buf.Flush()
	}
	s.endStream(c, err, "draw leaves cut off")
}

// publicEvent parses eventId and answers 404 for an unknown campaign (from
// the same memory of misses as the other public routes).
func (s *server) publicEvent(c *gin.Context) (uuid.UUID, bool) {
	eventID, ok := s.eventParam(c)
	if !ok {
		return uuid.Nil, false
	}
	if s.public.Campaign == nil || s.cfg.Certificates == nil {
		s.writeError(c, errUnavailable)
		return uuid.Nil, false
	}
	if _, err := s.knownCampaign(c.Request.Context(), eventID); err != nil {
		s.writeError(c, err)
		return uuid.Nil, false
	}
	return eventID, true
}
