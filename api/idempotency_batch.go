package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/internal/backoff"
)

// pendingKey names, in the gin context, the Idempotency-Key a handler hands
// to its command (idempotentInBatch).
const pendingKey = "idempotency.pending"

type pendingIdempotency struct {
	scope, key  string
	fingerprint []byte
	// reg is what the handler gave the command; held is set when the
	// command found the key taken and the handler answered from it.
	reg  *commands.RegistrationIdempotency
	held bool
}

// idempotentInBatch is idempotent for a route whose command claims the key
// and stores its answer in its own transaction (a registration: no commits
// of the key's own). The middleware only looks a finished answer up first.
// An answer the command did not store (a 4xx before any append) is kept
// afterwards, as idempotent keeps it; a 5xx is not.
func (s *server) idempotentInBatch(scope func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		key, fingerprint, ok := s.idempotencyKey(c)
		if !ok {
			return
		}
		p := &pendingIdempotency{scope: scope(c), key: key, fingerprint: fingerprint}
		claim, found, err := s.lookup(c.Request.Context(), p.scope, key, fingerprint)
		if err != nil {
			s.writeError(c, err)
			return
		}
		if found && s.answerClaim(c, claim, fingerprint) {
			return
		}
		c.Set(pendingKey, p)
		rec := &recordingWriter{ResponseWriter: c.Writer}
		c.Writer = rec
		c.Next()
		if p.held || (p.reg != nil && p.reg.Settled) || rec.Status() >= http.StatusInternalServerError {
			return
		}
		s.keepAnswer(c, p, commands.IdempotentAnswer{Status: rec.Status(), Body: rec.body.Bytes(), Subject: idempotencySubject(c)})
	}
}

// keepAnswer stores an answer the command did not, unless another request
// holds the key by now (its answer stands).
func (s *server) keepAnswer(c *gin.Context, p *pendingIdempotency, answer commands.IdempotentAnswer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 5*time.Second)
	defer cancel()
	claim, err := s.cfg.Idempotency.Claim(ctx, p.scope, p.key, p.fingerprint)
	if err == nil && claim.Claimed {
		err = s.cfg.Idempotency.Complete(ctx, p.scope, p.key, answer)
	}
	if err != nil {
		s.logger.LogAttrs(ctx, slog.LevelError, "idempotency key not settled",
			slog.String("correlation_id", correlationID(c)), slog.String("error", err.Error()))
	}
}

// registrationIdempotency is the command's side of the key: the answers of
// ALREADY_PARTICIPATED and EVENT_NOT_OPEN, and the 201's renderer; nil
// without a key.
func (s *server) registrationIdempotency(c *gin.Context) *commands.RegistrationIdempotency {
	p, _ := c.Value(pendingKey).(*pendingIdempotency)
	if p == nil {
		return nil
	}
	w := s.cfg.Idempotency.Write(p.scope, p.key, p.fingerprint)
	w.Lost, w.Closed = errorAnswer(domain.ErrAlreadyParticipated), errorAnswer(domain.ErrEventNotOpen)
	p.reg = &commands.RegistrationIdempotency{Write: w, Answer: registrationBody}
	return p.reg
}

// answerHeld answers a request whose command found its key held: the
// holder's answer once it is there (up to IdempotencyWait), 422 for
// another body.
func (s *server) answerHeld(c *gin.Context) {
	p := c.Value(pendingKey).(*pendingIdempotency)
	p.held = true
	claim, found, err := s.lookup(c.Request.Context(), p.scope, p.key, p.fingerprint)
	switch {
	case err != nil:
		s.writeError(c, err)
	case !found: // released again (its holder failed): the client may retry
		s.writeError(c, errIdempotencyKeyInUse)
	default:
		s.answerClaim(c, claim, p.fingerprint)
	}
}

// lookup finds who holds the key, waiting while its first request runs (up
// to IdempotencyWait): a retry during the first request gets its answer.
func (s *server) lookup(ctx context.Context, scope, key string, fingerprint []byte) (commands.IdempotencyClaim, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.IdempotencyWait)
	defer cancel()
	pause := backoff.New(10*time.Millisecond, 200*time.Millisecond)
	for {
		claim, found, err := s.cfg.Idempotency.Lookup(ctx, scope, key)
		if err != nil && ctx.Err() != nil {
			return commands.IdempotencyClaim{Fingerprint: fingerprint}, true, nil // still running: 409
		}
		if err != nil || !found || claim.Answer != nil || !bytes.Equal(claim.Fingerprint, fingerprint) {
			return claim, found, err
		}
		if !backoff.Sleep(ctx, pause.Next()) {
			return claim, true, nil
		}
	}
}

// errorAnswer is the answer writeError gives err (4xx: no log, no header).
func errorAnswer(err error) commands.IdempotentAnswer {
	status, body := classify(err)
	b, _ := json.Marshal(body)
	return commands.IdempotentAnswer{Status: status, Body: b}
}
