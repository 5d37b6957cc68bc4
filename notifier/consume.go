package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopevents/participation/domain"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/kafka"
	"github.com/shopevents/participation/notify"
)

// kst is how deadlines are written in the messages (Korea has no DST).
var kst = time.FixedZone("KST", 9*60*60)

// consume reads the topic in the notifier's own group and fills the
// outbox; a message is acked once its rows are committed, and a row that
// exists already is left alone, so a redelivery changes nothing.
func (n *Notifier) consume(ctx context.Context) error {
	sub, err := kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: n.cfg.Brokers,
		ConsumerGroup: ConsumerGroup, ClientID: "participation-notifier", Logger: n.cfg.Logger,
		SessionTimeout: n.cfg.SessionTimeout})
	if err != nil {
		return fmt.Errorf("notifier: subscriber: %w", err)
	}
	defer sub.Close()
	msgs, err := sub.Subscribe(ctx, n.cfg.Topic)
	if err != nil {
		return fmt.Errorf("notifier: subscribe: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			if err := n.retry(ctx, m); err != nil {
				m.Nack()
				return nil // ctx ended
			}
			m.Ack()
		}
	}
}

// retry enqueues m's messages until it succeeds or ctx ends: the outbox
// waits for the database, nothing is skipped.
func (n *Notifier) retry(ctx context.Context, m *message.Message) error {
	rec, err := kafka.FromMessage(m)
	if err != nil {
		n.cfg.Logger.Warn("notifier: unreadable message skipped", "message_uuid", m.UUID, "error", err)
		return nil
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := n.enqueue(ctx, rec)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n.cfg.Logger.Error("notifier: enqueue failed; will retry", "position", rec.Position, "error", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// outboxRow is one message to queue.
type outboxRow struct {
	eventID     uuid.UUID
	participant uuid.UUID
	entryNumber string
	template    string
	vars        map[string]string
	due         time.Time
	expires     time.Time
	replacement string // the replaced winner, for a promoted alternate's messages
}

// enqueue queues what a draw owes its winners: WINNER when they are
// announced, CLAIM_REMINDER a day before the claim deadline; a promoted
// alternate (WinnerReplaced) gets the same for its own window, and the
// replaced winner's messages not yet sent are withdrawn. Alternates and
// non-winners get nothing; a window that has passed (an upgrade reading old
// draws) gets nothing either.
func (n *Notifier) enqueue(ctx context.Context, rec eventstore.RecordedEvent) error {
	if rec.Type != domain.TypeWinnersDrawn && rec.Type != domain.TypeWinnerReplaced {
		return nil
	}
	ev, err := domain.DecodeEvent(rec.Type, rec.Data)
	if err != nil {
		n.cfg.Logger.Warn("notifier: undecodable draw skipped", "position", rec.Position, "error", err)
		return nil
	}
	switch e := ev.(type) {
	case domain.WinnersDrawn:
		campaign, err := n.campaign(ctx, e.EventID)
		if err != nil {
			return err
		}
		due := domain.WinnerMessageDue(campaign.AnnounceAt, e.DrawnAt)
		var rows []outboxRow
		for _, w := range e.Winners {
			rows = append(rows, n.winnerRows(campaign, w.ParticipantID, w.EntryNumber, w.Rank, due, campaign.ClaimDeadline, "")...)
		}
		return n.insert(ctx, e.DrawID, rows, uuid.Nil)
	case domain.WinnerReplaced:
		campaign, err := n.campaign(ctx, e.EventID)
		if err != nil {
			return err
		}
		// the replaced winner is part of the messages' ids: their own family
		due := domain.WinnerMessageDue(campaign.AnnounceAt, e.ReplacedAt)
		rows := n.winnerRows(campaign, e.By.ParticipantID, e.By.EntryNumber, e.Rank, due, e.ClaimDeadline,
			"replaced:"+e.Replaced.ParticipantID.String())
		return n.insert(ctx, e.DrawID, rows, e.Replaced.ParticipantID)
	}
	return nil
}

// winnerRows is WINNER at due and CLAIM_REMINDER a day before deadline for
// one winner (none once the deadline has passed).
func (n *Notifier) winnerRows(campaign domain.CampaignOpened, participant uuid.UUID, entryNumber string, rank int,
	due, deadline time.Time, replacement string) []outboxRow {
	if !n.cfg.Clock().Before(deadline) {
		return nil
	}
	vars := map[string]string{
		notify.VarTitle:    campaign.Title,
		notify.VarRank:     strconv.Itoa(rank),
		notify.VarClaimURL: n.cfg.PublicBaseURL + "/p/" + campaign.EventID.String() + "/result",
		notify.VarDeadline: deadline.In(kst).Format("2006-01-02 15:04"),
	}
	row := outboxRow{eventID: campaign.EventID, participant: participant, entryNumber: entryNumber,
		vars: vars, expires: deadline, replacement: replacement}
	winner := row
	winner.template, winner.due = notify.TemplateWinner, due
	rows := []outboxRow{winner}
	if reminderDue := deadline.Add(-domain.ReminderLead); reminderDue.After(due) { // a window shorter than a day has no reminder
		reminder := row
		reminder.template, reminder.due = notify.TemplateClaimReminder, reminderDue
		rows = append(rows, reminder)
	}
	return rows
}

// insert queues rows (a row already there is left alone) and, for a
// replacement, withdraws the replaced winner's messages still pending, in
// one transaction.
func (n *Notifier) insert(ctx context.Context, drawID uuid.UUID, rows []outboxRow, withdraw uuid.UUID) error {
	batch := &pgx.Batch{}
	for _, r := range rows {
		vars, err := json.Marshal(r.vars)
		if err != nil {
			return err
		}
		batch.Queue(`INSERT INTO notification_outbox (message_id, event_id, participant_id, entry_number,
			template, variables, due_at, expires_at, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) ON CONFLICT (message_id) DO NOTHING`,
			domain.NotificationMessageID(drawID, r.participant, r.template, r.replacement), r.eventID, r.participant,
			r.entryNumber, r.template, vars, r.due, r.expires)
	}
	if withdraw != uuid.Nil {
		batch.Queue(`UPDATE notification_outbox SET state = 'SKIPPED', reason = 'REPLACED', outcome_at = now()
			WHERE participant_id = $1 AND state = 'PENDING'`, withdraw)
	}
	if batch.Len() == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, n.cfg.Pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
}

// campaign reads the campaign from the store, which has it before any of
// its draws reached the topic.
func (n *Notifier) campaign(ctx context.Context, eventID uuid.UUID) (domain.CampaignOpened, error) {
	stored, err := n.cfg.Store.ReadStream(ctx, domain.CampaignStream(eventID))
	if err != nil {
		return domain.CampaignOpened{}, fmt.Errorf("notifier: campaign: %w", err)
	}
	for _, rec := range stored {
		if ev, err := domain.DecodeEvent(rec.Type, rec.Data); err == nil {
			if c, ok := ev.(domain.CampaignOpened); ok {
				return c, nil
			}
		}
	}
	return domain.CampaignOpened{}, errors.New("notifier: campaign not found")
}
