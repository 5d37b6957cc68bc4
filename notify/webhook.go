package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WebhookTimeout bounds one call to the provider's endpoint.
const WebhookTimeout = 10 * time.Second

// SignatureHeader carries the request's signature: t=UNIX_SECONDS,v1=hex(HMAC).
const SignatureHeader = "X-Signature"

// Webhook POSTs each message as JSON to a provider's endpoint (a 알림톡/SMS
// gateway's adapter), signed with a shared secret.
type Webhook struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// WebhookBody is what the endpoint receives.
type WebhookBody struct {
	MessageID string            `json:"messageId"`
	Template  string            `json:"template"`
	To        string            `json:"to"` // E.164
	Variables map[string]string `json:"variables"`
}

// CheckWebhookURL accepts an absolute http(s) URL with a host.
func CheckWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

// NewWebhook returns the adapter for endpoint, signing with secret. now is
// the signature's clock (time.Now when nil).
func NewWebhook(endpoint string, secret []byte, now func() time.Time) (*Webhook, error) {
	if err := CheckWebhookURL(endpoint); err != nil {
		return nil, fmt.Errorf("notify webhook: %w", err)
	}
	if len(secret) == 0 {
		return nil, errors.New("notify webhook: a secret is required")
	}
	if now == nil {
		now = time.Now
	}
	client := &http.Client{Timeout: WebhookTimeout,
		// a signed POST is not replayed elsewhere: a redirect is an answer (retried)
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Webhook{url: endpoint, secret: secret, client: client, now: now}, nil
}

// Send POSTs m: 2xx is delivered; 4xx other than 408 and 429 is ErrPermanent
// (the provider refused the message itself); anything else may succeed later.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(WebhookBody{MessageID: m.MessageID, Template: m.Template, To: m.To, Variables: m.Variables})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(w.secret, w.now(), body))
	resp, err := w.client.Do(req)
	if err != nil {
		// the error may hold the URL, never the body: no phone in it
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return fmt.Errorf("%w: webhook answered %d", ErrPermanent, code)
	default:
		return fmt.Errorf("webhook answered %d", code)
	}
}

// Sign is the X-Signature value of body sent at t:
// t=UNIX_SECONDS,v1=hex(HMAC-SHA256(secret, "{t}.{body}")).
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts + "."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature is a signature that does not verify.
var ErrBadSignature = errors.New("notify: bad signature")

// VerifySignature is what a receiver runs: the header's MAC matches body
// under secret and its time is within tolerance of now (replays are refused).
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, v1 string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return fmt.Errorf("%w: malformed %s", ErrBadSignature, SignatureHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: too old or too new", ErrBadSignature)
	}
	if !hmac.Equal([]byte(v1), []byte(mac(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}
