package app

import (
	"github.com/prometheus/client_golang/prometheus"

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
	if d.NotifyWebhookURL != "" {
		webhook, err := notify.NewWebhook(d.NotifyWebhookURL, d.NotifyWebhookSecret, nil)
		if err != nil {
			return nil, err
		}
		sender = webhook
	}
	return notifier.New(notifier.Config{
		Brokers: d.Brokers, Topic: d.Topic, Pool: d.Pool, Store: store, Keys: keys, Sender: sender,
		PublicBaseURL: d.PublicBaseURL, Clock: d.Clock, Every: d.NotifyEvery, RetryBase: d.NotifyRetryBase,
		Logger: d.Logger, Registerer: registry,
	})
}
