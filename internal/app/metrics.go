package app

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/commands"
	"github.com/shopevents/participation/domain"
)

// commandMetrics counts and times every command by outcome.
type commandMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newCommandMetrics(registry *prometheus.Registry) *commandMetrics {
	m := &commandMetrics{
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

// metered puts the metrics around the app's commands (and the owner's verify).
func (m *commandMetrics) metered(a api.App) api.App {
	c, o := &a.Customers, &a.Owners
	c.Register = meter(m, "register_participant", c.Register)
	c.RequestVerification = meter(m, "request_verification", c.RequestVerification)
	c.EraseMyData = meterAction(m, "erase_my_data", c.EraseMyData)
	c.CheckResult = meter(m, "check_result", c.CheckResult)
	o.OpenCampaign = meter(m, "open_campaign", o.OpenCampaign)
	o.RecordStoreVisit = meterAction(m, "record_store_visit", o.RecordStoreVisit)
	o.DrawWinners = meter(m, "draw_winners", o.DrawWinners)
	o.VerifyDraw = meter(m, "verify_draw", o.VerifyDraw)
	o.EraseParticipant = meterAction(m, "erase_participant", o.EraseParticipant)
	o.RevealWinnerContact = meter(m, "reveal_winner_contact", o.RevealWinnerContact)
	o.ReplaceWinner = meter(m, "replace_winner", o.ReplaceWinner)
	return a
}

func meter[C, R any](m *commandMetrics, command string, h api.Handler[C, R]) api.Handler[C, R] {
	if h == nil {
		return nil
	}
	return api.HandlerFunc[C, R](func(ctx context.Context, cmd C) (R, error) {
		start := time.Now()
		res, err := h.Handle(ctx, cmd)
		m.observe(command, start, err)
		return res, err
	})
}

func meterAction[C any](m *commandMetrics, command string, h api.Action[C]) api.Action[C] {
	if h == nil {
		return nil
	}
	return api.ActionFunc[C](func(ctx context.Context, cmd C) error {
		start := time.Now()
		err := h.Handle(ctx, cmd)
		m.observe(command, start, err)
		return err
	})
}

func (m *commandMetrics) observe(command string, start time.Time, err error) {
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
