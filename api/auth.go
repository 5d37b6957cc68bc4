package api

import (
	"errors"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

const ownerKey = "api.owner"

// IssueToken signs an owner token (HS256, claims sub and exp) the server
// accepts until now+ttl. The CLI's `token` command and the tests use it.
func IssueToken(secret []byte, ownerID string, ttl time.Duration, now time.Time) (string, error) {
	switch {
	case len(secret) == 0:
		return "", errors.New("issue token: empty secret")
	case strings.TrimSpace(ownerID) == "":
		return "", errors.New("issue token: empty owner id")
	case ttl <= 0:
		return "", errors.New("issue token: ttl must be positive")
	}
	claims := jwt.RegisteredClaims{
		Subject:   ownerID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// authenticate admits a request with a valid owner token and aborts any
// other with 401. It runs before any handler reads the body.
func (s *server) authenticate(c *gin.Context) {
	owner, err := s.ownerFromToken(c.GetHeader("Authorization"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Set(ownerKey, owner)
	c.Next()
}

func (s *server) ownerFromToken(header string) (string, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if header == "" {
		return "", &authError{"A bearer token is required."}
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", &authError{"The Authorization header must be 'Bearer <token>'."}
	}
	if len(s.cfg.JWTSecret) == 0 { // fail closed: no secret, no owner
		return "", &authError{"Owner tokens are not accepted by this server."}
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(token), &claims,
		func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", &authError{"The token has expired."}
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "", &authError{"The token has no expiry (exp)."}
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "", &authError{"The token is malformed."}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "", &authError{"The token's signature is not valid (HS256 only)."}
	default:
		return "", &authError{"The token is not valid."}
	}
	if strings.TrimSpace(claims.Subject) == "" {
		return "", &authError{"The token has no subject (sub)."}
	}
	return claims.Subject, nil
}

func ownerOf(c *gin.Context) string { return c.GetString(ownerKey) }

// authorizeCampaign answers 404 for an unknown campaign and 403 for another
// owner's; it returns false when it has answered.
func (s *server) authorizeCampaign(c *gin.Context, eventID uuid.UUID) bool {
	if s.cmds == nil {
		s.writeError(c, errUnavailable)
		return false
	}
	owner, err := s.cmds.CampaignOwner(c.Request.Context(), eventID)
	if err != nil {
		s.writeError(c, err)
		return false
	}
	if owner != ownerOf(c) {
		s.writeError(c, domain.ErrNotOwner)
		return false
	}
	return true
}
