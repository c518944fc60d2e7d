package queue

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webhook"
)

// HookQueue queues webhooks in the caller's transaction. *hookqueue.Queue
// implements it. A HookQueue that also has a Kick() method is woken by
// Handler.Kick after the caller's commit.
type HookQueue interface {
	Enqueue(tx *bstore.Tx, hooks ...hookqueue.Hook) error
}

var _ HookQueue = (*hookqueue.Queue)(nil)

// hookBatch collects the webhooks of one Handler call, queued together at
// the end.
type hookBatch struct {
	items []hookItem
}

type hookItem struct {
	m           Msg
	event       webhook.OutgoingEvent
	f           bounce.Failure
	suppressing bool
}

func (b *hookBatch) add(m Msg, event webhook.OutgoingEvent, f bounce.Failure, suppressing bool) {
	b.items = append(b.items, hookItem{m, event, f, suppressing})
}

// enqueueHooks composes the batch's webhooks with the account's settings
// and queues them.
func (h *Handler) enqueueHooks(tx *bstore.Tx, b *hookBatch, account string, settings AccountSettings, now time.Time) error {
	if h.Hooks == nil || len(b.items) == 0 {
		return nil
	}
	hooks := make([]hookqueue.Hook, len(b.items))
	for i, it := range b.items {
		hooks[i] = composeHook(it, account, settings, now)
	}
	return h.queueHooks(tx, hooks)
}

// queueHooks queues hooks in tx. A hook whose URL or signing secrets cannot
// be used (see AccountSettings.Validate) is left out with a warning and a
// count in Metrics: a side channel never blocks the delivery bookkeeping
// it reports on. An error from the HookQueue is returned.
func (h *Handler) queueHooks(tx *bstore.Tx, hooks []hookqueue.Hook) error {
	valid := hooks[:0:0]
	for _, hk := range hooks {
		settings := AccountSettings{WebhookURL: hk.URL, WebhookSecrets: hk.Secrets}
		if err := settings.Validate(); err != nil {
			h.log().Warn("webhook not queued: invalid webhook settings of account",
				slog.String("account", hk.Account),
				slog.String("event", string(hk.Event)),
				slog.Int64("msgid", hk.QueueMsgID),
				slog.Any("err", err))
			h.Metrics.hookSkipped()
			continue
		}
		valid = append(valid, hk)
	}
	if len(valid) == 0 {
		return nil
	}
	if err := h.Hooks.Enqueue(tx, valid...); err != nil {
		return fmt.Errorf("queue: queueing webhooks: %w", err)
	}
	h.Metrics.hooksQueued(len(valid))
	return nil
}

// composeHook builds the webhook for one message event. The payload is
// wire-compatible with mox's outgoing webhooks.
func composeHook(it hookItem, account string, settings AccountSettings, now time.Time) hookqueue.Hook {
	m := it.m
	var messageID string
	if m.MessageID != "" {
		messageID = "<" + m.MessageID + ">"
	}
	var errText, remoteMTA, remoteIP string
	if r, ok := m.LastResult(); ok {
		if !r.Success {
			errText = r.Error
		}
		remoteMTA = r.RemoteMTA
		if !r.DSN && m.Attempt.RemoteIP.IsValid() {
			remoteIP = m.Attempt.RemoteIP.String()
		}
	}
	keep := settings.KeepHooks // Zero: the webhook queue's default.
	payload := webhook.Outgoing{
		Version:          0,
		Event:            it.event,
		Suppressing:      it.suppressing,
		QueueMsgID:       m.ID,
		FromID:           m.FromID,
		MessageID:        messageID,
		Subject:          m.Subject,
		WebhookQueued:    now,
		SMTPCode:         int64(it.f.Code),
		SMTPEnhancedCode: it.f.EnhancedCode.String(),
		Error:            errText,
		Extra:            m.Extra,
		Reason:           string(it.f.Reason),
		Recipient:        m.RecipientAddress,
		RemoteMTA:        remoteMTA,
		RemoteIP:         remoteIP,
	}
	if payload.Extra == nil {
		payload.Extra = map[string]string{}
	}
	return hookqueue.Hook{
		Account:       account,
		URL:           settings.WebhookURL,
		Authorization: settings.WebhookAuthorization,
		Secrets:       settings.WebhookSecrets,
		Event:         payload.Event,
		QueueMsgID:    m.ID,
		Payload:       payload,
		KeepFor:       keep,
		NextAttempt:   now,
	}
}
