package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
)

func TestNotificationMessageIDIsStableAndDistinct(t *testing.T) {
	draw, p := uuid.MustParse("11111111-1111-4111-8111-111111111111"), uuid.MustParse("22222222-2222-4222-8222-222222222222")
	id := domain.NotificationMessageID(draw, p, "WINNER", "")
	if id != domain.NotificationMessageID(draw, p, "WINNER", "") || len(id) != 32 {
		t.Fatalf("id %q is not stable 32 hex digits", id)
	}
	for name, other := range map[string]string{
		"another_template":    domain.NotificationMessageID(draw, p, "CLAIM_REMINDER", ""),
		"another_participant": domain.NotificationMessageID(draw, draw, "WINNER", ""),
		"another_draw":        domain.NotificationMessageID(p, p, "WINNER", ""),
		"a_replacement":       domain.NotificationMessageID(draw, p, "WINNER", "1"),
		"shifted_separator":   domain.NotificationMessageID(draw, p, "WINNER\x00", ""),
	} {
		if other == id {
			t.Errorf("%s: same id", name)
		}
	}
	if got := domain.NotificationWireID(id, 0); got != id {
		t.Errorf("first attempt's wire id %q", got)
	}
	if got := domain.NotificationWireID(id, 2); got != id+"-r2" {
		t.Errorf("second resend's wire id %q", got)
	}
}

func TestWinnerMessageDue(t *testing.T) {
	announce := time.Date(2026, 12, 10, 9, 0, 0, 0, time.UTC)
	if got := domain.WinnerMessageDue(announce, announce.Add(-time.Hour)); !got.Equal(announce) {
		t.Errorf("drawn before: %v, want announceAt", got)
	}
	if got := domain.WinnerMessageDue(announce, announce.Add(time.Hour)); !got.Equal(announce.Add(time.Hour)) {
		t.Errorf("drawn after: %v, want at once", got)
	}
}
