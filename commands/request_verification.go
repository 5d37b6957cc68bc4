package commands

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/notify"
)

// ErrNotifierUnavailable: the code could not be sent (the provider is away
// for now); nothing was kept, so the customer may ask again at once.
var ErrNotifierUnavailable = errors.New("message could not be sent")

// RequestVerification asks for a code to the phone, for the campaign.
type RequestVerification struct {
	EventID uuid.UUID
	Phone   string
	Meta    Meta
}

// VerificationSent is when the code sent stops being accepted and when the
// next one may be asked for.
type VerificationSent struct {
	ExpiresAt time.Time
	ResendAt  time.Time
}

// RequestVerificationHandler handles RequestVerification.
type RequestVerificationHandler struct{ *core }

// Handle sends a fresh code to the phone as an OTP message and
// keeps its HMAC (the phone only as one too): domain.ErrVerificationOff
// with verification off, ErrCampaignNotFound, ErrEventNotOpen before the
// campaign starts, a *domain.VerificationTooSoonError within the resend
// limit. A new code replaces the phone's last one, with its tries reset.
func (h RequestVerificationHandler) Handle(ctx context.Context, cmd RequestVerification) (VerificationSent, error) {
	// The phone first: a request the spec refuses is 400 whether codes are on or not.
	phone, err := domain.NormalizePhone(cmd.Phone)
	if err != nil {
		return VerificationSent{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "phone", Reason: err.Error()}}}
	}
	if !h.verification.on {
		return VerificationSent{}, domain.ErrVerificationOff
	}
	campaign, err := h.loadCampaign(ctx, cmd.EventID)
	if err != nil {
		return VerificationSent{}, err
	}
	now := h.clock()
	if err := campaign.VerificationCodeRequestable(now); err != nil {
		return VerificationSent{}, err
	}
	code, err := domain.NewVerificationCode(h.random)
	if err != nil {
		return VerificationSent{}, err
	}
	subject := domain.VerificationSubject(h.verification.key, cmd.EventID, phone)
	mac := domain.VerificationCodeMAC(h.verification.key, subject, code)
	issued, sentAt, err := h.verification.store.Issue(ctx, subject, mac, now, now.Add(domain.VerificationTTL),
		now.Add(-domain.VerificationResendAfter))
	if err != nil {
		return VerificationSent{}, err
	}
	if !issued {
		return VerificationSent{}, &domain.VerificationTooSoonError{RetryAfter: max(domain.VerificationRetryAfter(sentAt, h.clock()), time.Second)}
	}
	err = h.verification.notifier.Send(ctx, notify.Message{
		MessageID: otpMessageID(subject, now),
		Template:  notify.TemplateOTP,
		To:        domain.PhoneE164(phone),
		Variables: map[string]string{"code": code, "title": campaign.Title},
	})
	if err != nil {
		// Not sent: the code goes, so it neither holds back the next request nor lingers.
		if werr := h.verification.store.Withdraw(context.WithoutCancel(ctx), subject, mac); werr != nil {
			return VerificationSent{}, errors.Join(fmt.Errorf("%w: %w", ErrNotifierUnavailable, err), werr)
		}
		return VerificationSent{}, fmt.Errorf("%w: %w", ErrNotifierUnavailable, err)
	}
	return VerificationSent{ExpiresAt: now.Add(domain.VerificationTTL), ResendAt: now.Add(domain.VerificationResendAfter)}, nil
}

// otpMessageID names one code's message: stable for that code, unrelated
// to the phone for anyone without the key (subject is an HMAC).
func otpMessageID(subject []byte, sentAt time.Time) string {
	sum := sha256.New()
	sum.Write(subject)
	_ = binary.Write(sum, binary.BigEndian, sentAt.UnixNano())
	return "otp-" + hex.EncodeToString(sum.Sum(nil)[:16])
}

// verifiedPhone checks a self-service command's code for (eventID, phone) when
// verification is on, and returns what uses the code up once the command
// has succeeded. A phone that is not one is left to the command's own
// validation (400 on the phone), which needs no code to answer.
func (h *core) verifiedPhone(ctx context.Context, eventID uuid.UUID, rawPhone, code string) (consume func(), err error) {
	if !h.verification.on {
		return func() {}, nil
	}
	phone, err := domain.NormalizePhone(rawPhone)
	if err != nil {
		return func() {}, nil
	}
	if code == "" {
		return nil, domain.ErrVerificationRequired
	}
	if !domain.ValidVerificationCode(code) {
		return nil, domain.ErrVerificationFailed
	}
	subject := domain.VerificationSubject(h.verification.key, eventID, phone)
	mac := domain.VerificationCodeMAC(h.verification.key, subject, code)
	ok, err := h.verification.store.Check(ctx, subject, mac, h.clock(), domain.VerificationTries)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, domain.ErrVerificationFailed
	}
	return func() {
		// Best effort: what it guarded has happened, and a code left
		// unconsumed still dies within VerificationTTL.
		_ = h.verification.store.Consume(context.WithoutCancel(ctx), subject, mac, domain.VerificationTries)
	}, nil
}
