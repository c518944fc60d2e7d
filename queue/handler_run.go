package queue

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mjl-/bstore"
)

// outboxBatch is how many DSNs DeliverOutbox hands over per round; their
// results are committed in one transaction.
const outboxBatch = 100

// Timing of Run.
const (
	defaultCleanupInterval = time.Hour   // Handler.CleanupInterval when zero.
	runErrorRetry          = time.Minute // Wait after a round whose DSN delivery failed.
)

// Run does the Handler's background work until ctx is done: it delivers the
// DSNs in the outbox to the DSNDeliverer (DeliverOutbox) and removes retired
// messages past their KeepUntil (CleanupRetired, every CleanupInterval). It
// wakes when Kick is called, when a DSN is due for a retry, and for the
// next cleanup. It returns nil when ctx is done, ErrNoDB without a DB.
// Errors are logged: a round whose DSN delivery failed is retried after a
// minute, a failed cleanup at the next CleanupInterval.
func (h *Handler) Run(ctx context.Context) error {
	if h.DB == nil {
		return ErrNoDB
	}
	interval := h.CleanupInterval
	if interval <= 0 {
		interval = defaultCleanupInterval
	}
	var nextCleanup time.Time // Zero: clean up in the first round.
	for {
		now := h.now()
		if !now.Before(nextCleanup) {
			if n, err := h.cleanup(ctx, now); err != nil {
				h.log().Error("removing expired retired messages", slog.Any("err", err))
			} else if n > 0 {
				h.log().Info("removed expired retired messages", slog.Int("count", n))
			}
			nextCleanup = now.Add(interval)
		}
		wake := nextCleanup
		_, next, err := h.DeliverOutbox(ctx)
		if err != nil && ctx.Err() == nil {
			h.log().Error("delivering dsns from outbox", slog.Any("err", err))
			next = now.Add(runErrorRetry)
		}
		if !next.IsZero() && next.Before(wake) {
			wake = next
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.kick():
		case <-h.after(max(wake.Sub(now), 0)):
		}
	}
}

func (h *Handler) cleanup(ctx context.Context, now time.Time) (n int, err error) {
	err = h.write(ctx, func(tx *bstore.Tx) error {
		n, err = CleanupRetired(tx, now)
		return err
	})
	h.Metrics.cleanedUp(n)
	return n, err
}

// DeliverOutbox hands the due DSNs in the outbox to the DSNDeliverer, up to
// 100 per call, and records the results in one transaction: delivered DSNs
// are removed, failed ones are retried with backoff (1 minute doubling to 1
// hour) and dropped with an error log after 12 attempts. It returns the
// number delivered and when the next DSN is due (zero: none). Without a
// DSNDeliverer it does nothing; without a DB it returns ErrNoDB. Run calls it; hosts with their own
// scheduling may call it instead.
//
// Delivery is at least once: a crash after a delivery and before the commit
// delivers that DSN again, with the same Message-ID. A delivery that fails
// because ctx was canceled is not counted as an attempt: the DSN stays due.
func (h *Handler) DeliverOutbox(ctx context.Context) (delivered int, next time.Time, err error) {
	if h.DB == nil {
		return 0, time.Time{}, ErrNoDB
	}
	if h.DSNDeliverer == nil {
		return 0, time.Time{}, nil
	}
	now := h.now()
	var due []OutboxDSN
	err = h.read(ctx, func(tx *bstore.Tx) error {
		q := bstore.QueryTx[OutboxDSN](tx)
		q.FilterLessEqual(fieldNextAttempt, now)
		q.SortAsc(fieldNextAttempt)
		q.Limit(outboxBatch)
		due, err = q.List()
		return err
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("queue: reading dsn outbox: %w", err)
	}

	results := make([]error, len(due))
	for i, d := range due {
		if ctx.Err() != nil {
			due = due[:i]
			break
		}
		results[i] = h.DSNDeliverer.DeliverDSN(ctx, d)
		if results[i] != nil && ctx.Err() != nil {
			// Cut off by shutdown: no attempt, or restarts during slow
			// deliveries would use up the DSN's attempts and drop it. It
			// stays due, for the next Run.
			due = due[:i]
			break
		}
	}

	err = h.write(context.WithoutCancel(ctx), func(tx *bstore.Tx) error {
		for i, d := range due {
			log := h.log().With(slog.Int64("outboxid", d.ID), slog.Int64("msgid", d.MsgID), slog.String("kind", string(d.Kind)))
			derr := results[i]
			if derr == nil {
				delivered++
				h.Metrics.dsnDelivered("ok")
				log.Debug("dsn delivered")
				if err := tx.Delete(&OutboxDSN{ID: d.ID}); err != nil {
					return err
				}
				continue
			}
			d.Attempts++
			d.LastError = derr.Error()
			if d.Attempts >= outboxMaxAttempts {
				h.Metrics.dsnDelivered("dropped")
				log.Error("dsn delivery failed too often, dropping dsn", slog.Any("err", derr), slog.String("account", d.Account))
				if err := tx.Delete(&OutboxDSN{ID: d.ID}); err != nil {
					return err
				}
				continue
			}
			h.Metrics.dsnDelivered("error")
			d.NextAttempt = now.Add(outboxBackoff(d.Attempts))
			log.Info("dsn delivery failed, will retry", slog.Any("err", derr), slog.Time("nextattempt", d.NextAttempt))
			if err := tx.Update(&d); err != nil {
				return err
			}
		}
		q := bstore.QueryTx[OutboxDSN](tx)
		q.SortAsc(fieldNextAttempt)
		first, err := q.Limit(1).Get()
		if err == nil {
			next = first.NextAttempt
		} else if err != bstore.ErrAbsent {
			return err
		}
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("queue: recording dsn deliveries: %w", err)
	}
	return delivered, next, nil
}

// read runs fn in a read transaction of h.DB: every Handler method that
// opens its own transaction goes through read or write, so each returns
// ErrNoDB the same way when the Handler has no DB.
func (h *Handler) read(ctx context.Context, fn func(tx *bstore.Tx) error) error {
	if h.DB == nil {
		return ErrNoDB
	}
	return h.DB.Read(ctx, fn)
}

// write runs fn in a write transaction of h.DB, see read.
func (h *Handler) write(ctx context.Context, fn func(tx *bstore.Tx) error) error {
	if h.DB == nil {
		return ErrNoDB
	}
	return h.DB.Write(ctx, fn)
}
