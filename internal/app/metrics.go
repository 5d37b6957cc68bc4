package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// meteredCommands counts and times every command by outcome.
type meteredCommands struct {
	api.Commands
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMeteredCommands(next api.Commands, registry *prometheus.Registry) *meteredCommands {
	m := &meteredCommands{
		Commands: next,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "participation_commands_total",
			Help: "Commands handled, by command and outcome (ok, rejected, error).",
		}, []string{"command", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "participation_command_duration_seconds",
			Help:    "Time to decide and store a command, by command.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"command"}),
	}
	registry.MustRegister(m.total, m.duration)
	return m
}

func (m *meteredCommands) observe(command string, start time.Time, err error) {
	m.duration.WithLabelValues(command).Observe(time.Since(start).Seconds())
	m.total.WithLabelValues(command, outcome(err)).Inc()
}

// outcome tells a rule saying no (the caller's 4xx) from a failure.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, domain.ErrInvalid), errors.Is(err, domain.ErrEventNotOpen),
		errors.Is(err, domain.ErrAlreadyParticipated), errors.Is(err, domain.ErrAlreadyDrawn),
		errors.Is(err, domain.ErrCampaignExists), errors.Is(err, domain.ErrCampaignNotFound),
		errors.Is(err, domain.ErrParticipantNotFound), errors.Is(err, domain.ErrNotOwner),
		errors.Is(err, domain.ErrInvalidWinnerCount), errors.Is(err, commands.ErrDrawNotFound),
		errors.Is(err, domain.ErrVerificationRequired), errors.Is(err, domain.ErrVerificationFailed),
		errors.Is(err, domain.ErrVerificationOff), errors.As(err, new(*domain.VerificationTooSoonError)):
		return "rejected"
	default:
		return "error"
	}
}

func (m *meteredCommands) OpenCampaign(ctx context.Context, cmd commands.OpenCampaign) (domain.CampaignOpened, error) {
	start := time.Now()
	res, err := m.Commands.OpenCampaign(ctx, cmd)
	m.observe("open_campaign", start, err)
	return res, err
}

func (m *meteredCommands) RegisterParticipant(ctx context.Context, cmd commands.RegisterParticipant) (commands.Registration, error) {
	start := time.Now()
	res, err := m.Commands.RegisterParticipant(ctx, cmd)
	m.observe("register_participant", start, err)
	return res, err
}

func (m *meteredCommands) RecordStoreVisit(ctx context.Context, cmd commands.RecordStoreVisit) error {
	start := time.Now()
	err := m.Commands.RecordStoreVisit(ctx, cmd)
	m.observe("record_store_visit", start, err)
	return err
}

func (m *meteredCommands) DrawWinners(ctx context.Context, cmd commands.DrawWinners) (commands.DrawOutcome, error) {
	start := time.Now()
	res, err := m.Commands.DrawWinners(ctx, cmd)
	m.observe("draw_winners", start, err)
	return res, err
}

func (m *meteredCommands) VerifyDraw(ctx context.Context, drawID uuid.UUID, ownerID string) (commands.DrawVerification, error) {
	start := time.Now()
	res, err := m.Commands.VerifyDraw(ctx, drawID, ownerID)
	m.observe("verify_draw", start, err)
	return res, err
}

func (m *meteredCommands) EraseMyData(ctx context.Context, cmd commands.EraseMyData) error {
	start := time.Now()
	err := m.Commands.EraseMyData(ctx, cmd)
	m.observe("erase_my_data", start, err)
	return err
}

func (m *meteredCommands) CheckResult(ctx context.Context, cmd commands.CheckResult) (domain.ResultCheck, error) {
	start := time.Now()
	res, err := m.Commands.CheckResult(ctx, cmd)
	m.observe("check_result", start, err)
	return res, err
}

func (m *meteredCommands) EraseParticipant(ctx context.Context, cmd commands.EraseParticipant) error {
	start := time.Now()
	err := m.Commands.EraseParticipant(ctx, cmd)
	m.observe("erase_participant", start, err)
	return err
}

func (m *meteredCommands) RevealWinnerContact(ctx context.Context, cmd commands.RevealWinnerContact) (domain.PersonalData, error) {
	start := time.Now()
	res, err := m.Commands.RevealWinnerContact(ctx, cmd)
	m.observe("reveal_winner_contact", start, err)
	return res, err
}

func (m *meteredCommands) RequestVerification(ctx context.Context, cmd commands.RequestVerification) (commands.VerificationSent, error) {
	start := time.Now()
	res, err := m.Commands.RequestVerification(ctx, cmd)
	m.observe("request_verification", start, err)
	return res, err
}

func (m *meteredCommands) ReplaceWinner(ctx context.Context, cmd commands.ReplaceWinner) (commands.Replacement, error) {
	start := time.Now()
	res, err := m.Commands.ReplaceWinner(ctx, cmd)
	m.observe("replace_winner", start, err)
	return res, err
}
