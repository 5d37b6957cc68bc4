package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// TitleMaxLength is the longest title, in Unicode characters.
const TitleMaxLength = 100

// Campaign is a marketing event as the rules see it, folded from its
// CampaignOpened and, once drawn, its WinnersDrawn.
type Campaign struct {
	ID         uuid.UUID
	OwnerID    string
	Title      string
	StartsAt   time.Time
	EndsAt     time.Time
	AnnounceAt time.Time
	// ClaimDeadline ends the winners' claims (announceAt + ClaimWindow unless set).
	ClaimDeadline time.Time
	Drawn         bool
	// IDScheme picks the key of the campaign's participant ids.
	IDScheme int
	// Version is the campaign stream's version (1 after CampaignOpened).
	// The draw lives in its own stream, so drawing does not change it.
	Version int64
}

// OpenCampaign decides the opening of a campaign. The title is trimmed and
// 1–100 characters; startsAt < endsAt ≤ announceAt; past dates are allowed.
// Every failed field is reported in one *ValidationError. The claims end
// ClaimWindow after announceAt.
func OpenCampaign(id uuid.UUID, ownerID, title string, startsAt, endsAt, announceAt time.Time) (CampaignOpened, error) {
	return OpenCampaignWithClaimDeadline(id, ownerID, title, startsAt, endsAt, announceAt, time.Time{})
}

// OpenCampaignWithClaimDeadline is OpenCampaign with the winners' claim
// deadline: announceAt ≤ claimDeadline, or zero for announceAt + ClaimWindow.
func OpenCampaignWithClaimDeadline(id uuid.UUID, ownerID, title string, startsAt, endsAt, announceAt, claimDeadline time.Time) (CampaignOpened, error) {
	var v validation
	if id == uuid.Nil {
		v.add("eventId", "The event id must not be the nil UUID.")
	}
	ownerID = strings.TrimSpace(ownerID)
	if ownerID == "" {
		v.add("ownerId", "The owner id is required.")
	}
	title = strings.TrimSpace(title)
	switch n := utf8.RuneCountInString(title); {
	case !utf8.ValidString(title):
		v.add("title", "The title must be valid UTF-8.")
	case n == 0:
		v.add("title", "The title is required.")
	case n > TitleMaxLength:
		v.add("title", fmt.Sprintf("The title must be at most %d characters.", TitleMaxLength))
	case strings.IndexFunc(title, unicode.IsControl) >= 0:
		v.add("title", "The title must not contain control characters.")
	case hasFormatChar(title):
		v.add("title", "The title "+formatReason)
	}
	for _, t := range []struct {
		field string
		at    time.Time
	}{{"startsAt", startsAt}, {"endsAt", endsAt}, {"announceAt", announceAt}} {
		if t.at.IsZero() {
			v.add(t.field, "The time is required.")
		}
	}
	if !startsAt.IsZero() && !endsAt.IsZero() && !startsAt.Before(endsAt) {
		v.add("endsAt", "The end must be after the start.")
	}
	if !endsAt.IsZero() && !announceAt.IsZero() && announceAt.Before(endsAt) {
		v.add("announceAt", "The announcement must not be before the end.")
	}
	if claimDeadline.IsZero() {
		claimDeadline = announceAt.Add(ClaimWindow)
	} else if !announceAt.IsZero() && claimDeadline.Before(announceAt) {
		v.add("claimDeadline", "The claim deadline must not be before the announcement.")
	}
	if err := v.err(); err != nil {
		return CampaignOpened{}, err
	}
	return CampaignOpened{
		EventID:    id,
		OwnerID:    ownerID,
		Title:      title,
		StartsAt:   startsAt.UTC(),
		EndsAt:     endsAt.UTC(),
		AnnounceAt: announceAt.UTC(),

		ParticipantIDScheme: ParticipantIDCampaignKey,
		ClaimDeadline:       claimDeadline.UTC(),
	}, nil
}

// CampaignFromOpened is the campaign right after it opened.
func CampaignFromOpened(e CampaignOpened) Campaign {
	return Campaign{
		ID:         e.EventID,
		OwnerID:    e.OwnerID,
		Title:      e.Title,
		StartsAt:   e.StartsAt,
		EndsAt:     e.EndsAt,
		AnnounceAt: e.AnnounceAt,
		IDScheme:   e.ParticipantIDScheme,
		Version:    1,

		ClaimDeadline: e.ClaimDeadline,
	}
}

// Apply folds events of the campaign and draw streams into the campaign:
// CampaignOpened and WinnersDrawn, as values or pointers. Events of another
// campaign or of another type are an error.
func (c Campaign) Apply(events ...any) (Campaign, error) {
	for _, e := range events {
		switch e := e.(type) {
		case CampaignOpened:
			c = CampaignFromOpened(e)
		case *CampaignOpened:
			c = CampaignFromOpened(*e)
		case WinnersDrawn:
			if err := c.drawnBy(e); err != nil {
				return c, err
			}
			c.Drawn = true
		case *WinnersDrawn:
			if err := c.drawnBy(*e); err != nil {
				return c, err
			}
			c.Drawn = true
		case DrawCommitted: // the commit closes the campaign: a draw is final from here
			if err := c.drawnBy(WinnersDrawn{EventID: e.EventID}); err != nil {
				return c, err
			}
			c.Drawn = true
		default:
			return c, fmt.Errorf("campaign %s: cannot apply %T", c.ID, e)
		}
	}
	return c, nil
}

func (c Campaign) drawnBy(e WinnersDrawn) error {
	if e.EventID != c.ID {
		return fmt.Errorf("campaign %s: cannot apply the draw of campaign %s", c.ID, e.EventID)
	}
	return nil
}

// IsOpenAt says whether registrations are accepted at now:
// StartsAt ≤ now < EndsAt and not yet drawn (a draw closes registration).
func (c Campaign) IsOpenAt(now time.Time) bool {
	return !c.Drawn && !now.Before(c.StartsAt) && now.Before(c.EndsAt)
}

// CheckOpen is IsOpenAt as an error: ErrEventNotOpen when closed.
func (c Campaign) CheckOpen(now time.Time) error {
	if !c.IsOpenAt(now) {
		return ErrEventNotOpen
	}
	return nil
}

// CheckOwner returns ErrNotOwner unless ownerID owns the campaign.
func (c Campaign) CheckOwner(ownerID string) error {
	if ownerID == "" || ownerID != c.OwnerID {
		return ErrNotOwner
	}
	return nil
}
