package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
)

// ErasedByRetention is ParticipantErased.erasedBy when retention erased.
const ErasedByRetention = "retention"

// RunRetention erases the personal data that retention says is due at Now:
// non-winners NonWinners after their campaign's announceAt, winners Winners
// after it. Running it again erases nothing more (erased participants are
// skipped), so it is safe on every instance and after a crash.
type RunRetention struct {
	Now        time.Time
	NonWinners time.Duration
	Winners    time.Duration
	DryRun     bool
}

// RetentionReport counts what a retention run found and did.
type RetentionReport struct {
	Campaigns int // campaigns past announceAt plus the shorter retention
	Due       int // participants due for erasure
	Erased    int // erased by this run (0 with DryRun)
	// KeysDestroyed counts the campaign keys this run destroyed (with
	// DryRun: that it would destroy).
	KeysDestroyed int
}

// retentionBatch bounds the erasures of one transaction.
const retentionBatch = 500

// RunRetentionHandler handles RunRetention.
type RunRetentionHandler struct{ *core }

// Handle runs retention once.
func (h RunRetentionHandler) Handle(ctx context.Context, cmd RunRetention) (RetentionReport, error) {
	if cmd.NonWinners < 0 || cmd.Winners < 0 {
		return RetentionReport{}, errors.New("retention: negative duration")
	}
	opened, err := h.store.CampaignsOpened(ctx)
	if err != nil {
		return RetentionReport{}, err
	}
	var report RetentionReport
	for _, rec := range opened {
		e, err := domain.DecodeEvent(rec.Type, rec.Data)
		if err != nil {
			return report, err
		}
		c := domain.CampaignFromOpened(e.(domain.CampaignOpened))
		if cmd.Now.Before(c.AnnounceAt.Add(min(cmd.NonWinners, cmd.Winners))) {
			continue
		}
		report.Campaigns++
		due, err := h.retentionDue(ctx, c, cmd)
		if err != nil {
			return report, err
		}
		report.Due += len(due)
		if !cmd.DryRun {
			for chunk := range slices.Chunk(due, retentionBatch) {
				n, err := h.eraseMany(ctx, chunk)
				report.Erased += n
				if err != nil {
					return report, err
				}
			}
		}
		n, err := h.destroyCampaignKey(ctx, c, cmd)
		report.KeysDestroyed += n
		if err != nil {
			return report, err
		}
	}
	return report, nil
}

// destroyCampaignKey destroys the campaign's participant-id key once its
// last retention has passed (every participant erased by then): no phone
// can be linked to its ids afterwards, even with PII_KEY. It runs after the
// campaign's erasures succeeded; a key already gone is not counted.
func (h *core) destroyCampaignKey(ctx context.Context, c domain.Campaign, cmd RunRetention) (int, error) {
	if c.IDScheme != domain.ParticipantIDCampaignKey || cmd.Now.Before(c.AnnounceAt.Add(max(cmd.NonWinners, cmd.Winners))) {
		return 0, nil
	}
	var (
		there bool
		err   error
	)
	if cmd.DryRun {
		_, there, err = h.store.CampaignKey(ctx, c.ID)
	} else {
		h.campaignKeys.Delete(c.ID)
		there, err = h.store.DestroyCampaignKey(ctx, c.ID)
	}
	if err != nil || !there {
		return 0, err
	}
	return 1, nil
}

// retentionDue returns the campaign's participants that retention erases now.
func (h *core) retentionDue(ctx context.Context, c domain.Campaign, cmd RunRetention) ([]domain.Participant, error) {
	rows, err := h.store.Candidates(ctx, c.ID.String())
	if err != nil {
		return nil, err
	}
	// An alternate may yet take a winner's place (and deliver a prize): its
	// data is kept as long as a winner's.
	ids, err := h.winnerIDs(ctx, c.ID, true)
	if err != nil {
		return nil, err
	}
	won := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		won[id] = true
	}
	var due []domain.Participant
	for _, r := range rows {
		if !r.Erased && domain.RetentionDue(c.AnnounceAt, won[r.ParticipantID], cmd.NonWinners, cmd.Winners, cmd.Now) {
			due = append(due, domain.Participant{ID: r.ParticipantID, EventID: c.ID, EntryNumber: r.EntryNumber})
		}
	}
	return due, nil
}

// eraseMany erases participants in one transaction; one that changed in the
// meantime is erased on its own afterwards.
func (h *core) eraseMany(ctx context.Context, due []domain.Participant) (int, error) {
	streams := make([]string, len(due))
	for i, p := range due {
		streams[i] = domain.ParticipantStream(p.ID)
	}
	versions, err := h.store.StreamVersions(ctx, streams)
	if err != nil {
		return 0, err
	}
	now := h.clock()
	meta := Meta{Actor: ErasedByRetention}
	reqs := make([]eventstore.AppendRequest, 0, len(due))
	for i, p := range due {
		p.Version = versions[streams[i]]
		req, ok, err := h.erasure(p, domain.ErasedByRetention, ErasedByRetention, now, meta)
		if err != nil {
			return 0, err
		}
		if ok {
			reqs = append(reqs, req)
		}
	}
	_, errs, err := h.store.AppendBatch(ctx, reqs)
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	erased := 0
	for i, err := range errs {
		switch {
		case err == nil:
			erased++
		case errors.Is(err, eventstore.ErrWrongExpectedVersion):
			if err := h.erase(ctx, due[i].EventID, reqs[i].Stream, domain.ErasedByRetention, ErasedByRetention, meta); err != nil {
				return erased, err
			}
			erased++
		default:
			return erased, fmt.Errorf("retention: %w", err)
		}
	}
	return erased, nil
}
