package api

import (
	"errors"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/shopevents/participation/commands"
)

const ownerKey = "api.owner"

// Owner token rules (DESIGN "Nobody gets in where they don't belong").
const (
	DefaultJWTIssuer   = "participation"
	DefaultJWTAudience = "participation-owner"
	DefaultJWTMaxTTL   = 744 * time.Hour // 31 days
	// JWTLeeway absorbs clock skew between the issuer and this server on
	// exp, nbf and iat.
	JWTLeeway = 30 * time.Second
)

// TokenRules are what an owner token must say besides sub and exp: a token
// of another service signed with the same secret has another iss or aud,
// and a token valid for years is refused.
type TokenRules struct {
	Issuer   string        // iss; default DefaultJWTIssuer
	Audience string        // aud; default DefaultJWTAudience
	MaxTTL   time.Duration // the longest exp − iat; default DefaultJWTMaxTTL
}

// WithDefaults fills the zero fields.
func (r TokenRules) WithDefaults() TokenRules {
	if r.Issuer == "" {
		r.Issuer = DefaultJWTIssuer
	}
	if r.Audience == "" {
		r.Audience = DefaultJWTAudience
	}
	if r.MaxTTL == 0 {
		r.MaxTTL = DefaultJWTMaxTTL
	}
	return r
}

// Validate refuses rules no token could meet; zero fields are defaults.
func (r TokenRules) Validate() error {
	var errs []error
	if r.Issuer != strings.TrimSpace(r.Issuer) {
		errs = append(errs, errors.New("JWT_ISSUER: no leading or trailing white space"))
	}
	if r.Audience != strings.TrimSpace(r.Audience) {
		errs = append(errs, errors.New("JWT_AUDIENCE: no leading or trailing white space"))
	}
	if r.MaxTTL < 0 {
		errs = append(errs, errors.New("JWT_MAX_TTL: want a positive duration such as 744h"))
	}
	return errors.Join(errs...)
}

// IssueToken signs an owner token under the default rules; see
// TokenRules.Issue.
func IssueToken(secret []byte, ownerID string, ttl time.Duration, now time.Time) (string, error) {
	return TokenRules{}.Issue(secret, ownerID, ttl, now)
}

// Issue signs an owner token (HS256; sub, iss, aud, iat and exp) that a
// server with these rules accepts until now+ttl; a ttl above MaxTTL is
// capped at it. The CLI's `token` command, the banner and the tests use it.
func (r TokenRules) Issue(secret []byte, ownerID string, ttl time.Duration, now time.Time) (string, error) {
	r = r.WithDefaults()
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
		Issuer:    r.Issuer,
		Audience:  jwt.ClaimStrings{r.Audience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(min(ttl, r.MaxTTL))),
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
	rules := s.cfg.Tokens
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(strings.TrimSpace(token), &claims,
		func(*jwt.Token) (any, error) { return s.cfg.JWTSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(rules.Issuer),
		jwt.WithAudience(rules.Audience),
		jwt.WithLeeway(JWTLeeway),
		jwt.WithTimeFunc(s.cfg.Now),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "", &authError{"The token is malformed."}
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "", &authError{"The token's signature is not valid (HS256 only)."}
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "", &authError{"The token lacks a required claim (" + missingClaims(claims) + ")."}
	case errors.Is(err, jwt.ErrTokenExpired):
		return "", &authError{"The token has expired."}
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "", &authError{"The token is not valid yet (nbf or iat is in the future)."}
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "", &authError{"The token's issuer (iss) is not this service's."}
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "", &authError{"The token's audience (aud) is not this service's owners."}
	default:
		return "", &authError{"The token is not valid."}
	}
	if claims.IssuedAt == nil {
		return "", &authError{"The token lacks a required claim (iat)."}
	}
	if claims.ExpiresAt.Sub(claims.IssuedAt.Time) > rules.MaxTTL {
		return "", &authError{"The token's lifetime (exp − iat) is longer than this server accepts."}
	}
	if strings.TrimSpace(claims.Subject) == "" {
		return "", &authError{"The token has no subject (sub)."}
	}
	return claims.Subject, nil
}

// missingClaims names the required claims a token left out.
func missingClaims(c jwt.RegisteredClaims) string {
	var out []string
	for _, m := range []struct {
		name    string
		missing bool
	}{
		{"exp", c.ExpiresAt == nil}, {"iat", c.IssuedAt == nil},
		{"iss", c.Issuer == ""}, {"aud", len(c.Audience) == 0},
	} {
		if m.missing {
			out = append(out, m.name)
		}
	}
	return strings.Join(out, ", ")
}

func ownerOf(c *gin.Context) string { return c.GetString(ownerKey) }

// authorizeCampaign answers 404 for an unknown campaign and 403 for another
// owner's; it returns false when it has answered.
func (s *server) authorizeCampaign(c *gin.Context, eventID uuid.UUID) bool {
	if s.owner.Authorize == nil {
		s.writeError(c, errUnavailable)
		return false
	}
	err := s.owner.Authorize.Handle(c.Request.Context(), commands.AuthorizeOwner{EventID: eventID, OwnerID: ownerOf(c)})
	if err != nil {
		s.writeError(c, err)
		return false
	}
	return true
}
