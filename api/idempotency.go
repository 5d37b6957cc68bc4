package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/internal/backoff"
)

// IdempotencyHeader names the key a client sends to make a POST safe to retry.
const IdempotencyHeader = "Idempotency-Key"

// ReplayedHeader marks an answer sent again for a retried key.
const ReplayedHeader = "Idempotent-Replayed"

const maxIdempotencyKey = 255

// registrationScope: every customer shares one key space; a key reused with
// another body (another person) is 422, and a replay needs the same body.
func registrationScope(*gin.Context) string { return "POST /api/v1/participations" }

// drawScope: each owner has a key space of their own.
func drawScope(c *gin.Context) string { return "POST draw-winners " + ownerOf(c) }

// idempotent makes the route answer a retry of the same key and body with
// the first answer (status and body), and a reuse of the key with another
// body 422. Answers below 500 are kept (for a day); a 5xx is not, so its
// retry runs again. Routes without the header run as usual.
func (s *server) idempotent(scope func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if key, fingerprint, ok := s.idempotencyKey(c); ok {
			s.runIdempotent(c, scope(c), key, fingerprint)
		}
	}
}

// idempotencyKey checks the header and fingerprints the body. ok is false
// when the request was answered (a bad header or body) or passed on (no
// header, or no keys kept).
func (s *server) idempotencyKey(c *gin.Context) (key string, fingerprint []byte, ok bool) {
	keys, present := c.Request.Header[IdempotencyHeader]
	if !present {
		c.Next()
		return "", nil, false
	}
	if len(keys) != 1 || !validIdempotencyKey(keys[0]) {
		s.writeError(c, invalidField(IdempotencyHeader, "Must be one header of 1 to 255 printable ASCII characters."))
		return "", nil, false
	}
	body, err := readBody(c, s.cfg.MaxBodyBytes)
	if err != nil {
		s.writeError(c, err)
		return "", nil, false
	}
	if s.cfg.Idempotency == nil {
		c.Next()
		return "", nil, false
	}
	return keys[0], s.cfg.Idempotency.Fingerprint(c.Request.URL.Path, body), true
}

// answerClaim answers a request whose key another request holds: that
// request's answer again, 422 for another body, 409 while it runs. false:
// the key is free after all.
func (s *server) answerClaim(c *gin.Context, claim commands.IdempotencyClaim, fingerprint []byte) bool {
	switch {
	case claim.Claimed:
		return false
	case !bytes.Equal(claim.Fingerprint, fingerprint):
		s.writeError(c, errIdempotencyKeyReused)
	case claim.Answer == nil:
		s.writeError(c, errIdempotencyKeyInUse)
	default:
		c.Header(ReplayedHeader, "true")
		c.Data(claim.Answer.Status, "application/json; charset=utf-8", claim.Answer.Body)
		c.Abort()
	}
	return true
}

func (s *server) runIdempotent(c *gin.Context, scope, key string, fingerprint []byte) {
	ctx := c.Request.Context()
	claim, err := s.claim(ctx, scope, key, fingerprint)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if s.answerClaim(c, claim, fingerprint) {
		return
	}
	rec := &recordingWriter{ResponseWriter: c.Writer}
	c.Writer = rec
	// Settling outlives the request: the answer is kept even when the
	// client has gone, since its retry must get it.
	settle := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	}
	defer func() {
		if v := recover(); v != nil {
			done, cancel := settle()
			defer cancel()
			_ = s.cfg.Idempotency.Release(done, scope, key) // a panic is a 500: let the retry run
			panic(v)
		}
	}()
	c.Next()
	done, cancel := settle()
	defer cancel()
	if status := rec.Status(); status < http.StatusInternalServerError {
		err = s.cfg.Idempotency.Complete(done, scope, key, commands.IdempotentAnswer{Status: status, Body: rec.body.Bytes(),
			Subject: idempotencySubject(c)})
	} else {
		err = s.cfg.Idempotency.Release(done, scope, key)
	}
	if err != nil {
		s.logger.LogAttrs(ctx, slog.LevelError, "idempotency key not settled",
			slog.String("correlation_id", correlationID(c)), slog.String("error", err.Error()))
	}
}

// subjectKey names the participant a handler's answer is about, in the
// gin context: the idempotency row is linked to it, so that the
// participant's erasure deletes the row (its body holds the entry number).
const subjectKey = "idempotency.subject"

// setIdempotencySubject records the participant the answer is about.
func setIdempotencySubject(c *gin.Context, participantID uuid.UUID) { c.Set(subjectKey, participantID) }

func idempotencySubject(c *gin.Context) uuid.UUID {
	id, _ := c.Value(subjectKey).(uuid.UUID)
	return id
}

// claim claims the key or, while its first request runs, waits for that
// request's answer (up to IdempotencyWait): two concurrent requests with one
// key make one write and get one answer.
func (s *server) claim(ctx context.Context, scope, key string, fingerprint []byte) (commands.IdempotencyClaim, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.IdempotencyWait)
	defer cancel()
	pause := backoff.New(10*time.Millisecond, 200*time.Millisecond)
	for {
		claim, err := s.cfg.Idempotency.Claim(ctx, scope, key, fingerprint)
		if err != nil || claim.Claimed || claim.Answer != nil || !bytes.Equal(claim.Fingerprint, fingerprint) {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				return commands.IdempotencyClaim{Fingerprint: fingerprint}, nil // still running: 409
			}
			return claim, err
		}
		if !backoff.Sleep(ctx, pause.Next()) {
			return claim, nil
		}
	}
}

func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// readBody reads the whole body (within the limit) and puts it back for
// the handler.
func readBody(c *gin.Context, maxBytes int64) ([]byte, error) {
	if c.Request.ContentLength > maxBytes {
		return nil, errPayloadTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errPayloadTooLarge
		}
		return nil, invalidField("body", "The body could not be read.")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// recordingWriter keeps a copy of the answer it passes on.
type recordingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recordingWriter) WriteString(s string) (int, error) {
	w.body.WriteString(s)
	return w.ResponseWriter.WriteString(s)
}
