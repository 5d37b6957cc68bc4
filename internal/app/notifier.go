package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopevents/participation/api"
	"github.com/shopevents/participation/eventstore"
	"github.com/shopevents/participation/notifier"
	"github.com/shopevents/participation/notify"
	"github.com/shopevents/participation/privacy"
)

// newNotifier wires the notifier role: the webhook adapter when
// NOTIFY_WEBHOOK_URL is set, else the log adapter (the default and the
// embedded mode's). It needs PII_KEY: it opens the phone to send.
func newNotifier(store *eventstore.Store, d deps, registry *prometheus.Registry) (*notifier.Notifier, error) {
	keys, err := privacy.NewKeys(d.PIIKey)
	if err != nil {
		return nil, err
	}
	var sender notify.Notifier = notify.NewLog(d.Logger)
	webhook, err := webhookSender(d)
	if err != nil {
		return nil, err
	}
	if webhook != nil {
		sender = webhook
	}
	return notifier.New(notifier.Config{
		Brokers: d.Brokers, Topic: d.Topic, Pool: d.Pool, Store: store, Keys: keys, Sender: sender,
		PublicBaseURL: d.PublicBaseURL, Clock: d.Clock, Every: d.NotifyEvery, RetryBase: d.NotifyRetryBase,
		Logger: d.Logger, Registerer: registry,
	})
}

// webhookSender is the webhook adapter when NOTIFY_WEBHOOK_URL is set, nil
// otherwise: the notifier role and phone verification send through the same one.
func webhookSender(d deps) (notify.Notifier, error) {
	if d.NotifyWebhookURL == "" {
		return nil, nil
	}
	return notify.NewWebhook(d.NotifyWebhookURL, d.NotifyWebhookSecret, nil)
}

// ownerNotifications is the notifier's outbox as the API shows it to the
// owner; any instance with the API role answers it, notifier role or not.
type ownerNotifications struct {
	pool  *pgxpool.Pool
	clock func() time.Time
}

func (o ownerNotifications) now() time.Time {
	if o.clock != nil {
		return o.clock()
	}
	return time.Now()
}

func (o ownerNotifications) Statuses(ctx context.Context, eventID uuid.UUID) (map[string]api.NotificationStatus, error) {
	st, err := notifier.Statuses(ctx, o.pool, eventID, o.now())
	if err != nil {
		return nil, err
	}
	out := make(map[string]api.NotificationStatus, len(st))
	for entry, s := range st {
		out[entry] = api.NotificationStatus{State: s.State, Template: s.Template, At: s.At, Preview: s.Preview}
	}
	return out, nil
}

func (o ownerNotifications) Resend(ctx context.Context, eventID uuid.UUID, entryNumber string) (api.NotificationStatus, error) {
	if _, err := notifier.Resend(ctx, o.pool, eventID, entryNumber, o.now()); errors.Is(err, notifier.ErrNotFailed) {
		return api.NotificationStatus{}, api.ErrNotificationNotFailed
	} else if err != nil {
		return api.NotificationStatus{}, err
	}
	st, err := o.Statuses(ctx, eventID)
	if err != nil {
		return api.NotificationStatus{}, err
	}
	return st[entryNumber], nil
}
