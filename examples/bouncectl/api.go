package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webapi"
)

// apiBackend runs the commands through a running server's API (package
// webapi), with -url. The server applies its own settings: its
// normalizer, retention and webhooks. Each command is one call, so one
// transaction on the server, except where noted on the method.
type apiBackend struct {
	c   *cli
	url string

	client    *webapi.Client // Made on first use: -h needs no credentials.
	transport *http.Transport
}

var _ backend = (*apiBackend)(nil)

func newAPIBackend(c *cli, url string) (backend, error) {
	return &apiBackend{c: c, url: url}, nil
}

// api returns the client, reading the credentials on first use.
func (b *apiBackend) api() (*webapi.Client, error) {
	if b.client != nil {
		return b.client, nil
	}
	cred, err := b.c.credentials()
	if err != nil {
		return nil, err
	}
	b.transport = http.DefaultTransport.(*http.Transport).Clone()
	b.client = &webapi.Client{
		BaseURL:  b.url,
		Username: cred.user,
		Password: cred.password,
		HTTPClient: &http.Client{
			Transport: b.transport,
			// A redirect could carry the credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	return b.client, nil
}

// close releases the connections kept for reuse.
func (b *apiBackend) close() {
	if b.transport != nil {
		b.transport.CloseIdleConnections()
	}
}

// call runs fn with the client, within -timeout, and turns the API's
// errors into the CLI's: notFound into errNotFound, a refused request
// into a usage error, refused credentials into exit code 6.
func (b *apiBackend) call(ctx context.Context, fn func(ctx context.Context, api *webapi.Client) error) error {
	api, err := b.api()
	if err != nil {
		return err
	}
	if b.c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.c.timeout)
		defer cancel()
	}
	return apiError(fn(ctx, api))
}

func apiError(err error) error {
	var werr *webapi.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &werr):
		switch werr.Code {
		case webapi.CodeNotFound:
			return fmt.Errorf("%w: %w", errNotFound, err)
		case webapi.CodeUser, webapi.CodeBadAddress, webapi.CodeProtocol, webapi.CodeUnknownMethod, webapi.CodeTooLarge:
			return &exitError{exitUsage, fmt.Errorf("server refused the request: %s: %s", werr.Code, werr.Message)}
		case webapi.CodeForbidden:
			return &exitError{exitDenied, fmt.Errorf("server refused the request: %s: %s", werr.Code, werr.Message)}
		}
		return fmt.Errorf("server: %s: %s", werr.Code, werr.Message)
	case errors.Is(err, webapi.ErrUnauthorized), errors.Is(err, webapi.ErrRateLimited):
		return &exitError{exitDenied, err}
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w (-timeout)", err)
	}
	return err
}

func apiPage(p paging.Page) webapi.Page {
	return webapi.Page{After: p.After, Limit: p.Limit, Newest: p.Newest}
}

func (f msgFilter) api() webapi.QueueFilter {
	return webapi.QueueFilter{
		IDs:             f.ids,
		RecipientDomain: strings.ToLower(f.domain),
		Recipient:       f.recipient,
		DueBefore:       f.dueBefore,
		DueAfter:        f.dueAfter,
		Held:            f.held,
	}
}

// queueList reads every page, as the API lists in ID order and the
// command by next attempt.
func (b *apiBackend) queueList(ctx context.Context, f msgFilter, limit int) ([]queue.Msg, error) {
	var msgs []queue.Msg
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) error {
		req := webapi.QueueListRequest{Account: f.account, QueueFilter: f.api(), Page: webapi.Page{Limit: paging.MaxLimit}}
		for {
			res, err := api.QueueList(ctx, req)
			if err != nil {
				return err
			}
			msgs = append(msgs, res.Messages...)
			if res.Next == 0 {
				return nil
			}
			req.After = res.Next
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(msgs, func(a, b queue.Msg) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	if limit > 0 && len(msgs) > limit+1 {
		msgs = msgs[:limit+1]
	}
	return msgs, nil
}

func (b *apiBackend) queueGet(ctx context.Context, id int64) (queue.Msg, error) {
	var res webapi.QueueListResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.QueueList(ctx, webapi.QueueListRequest{QueueFilter: webapi.QueueFilter{IDs: []int64{id}}})
		return err
	})
	if err != nil {
		return queue.Msg{}, err
	}
	if len(res.Messages) != 1 {
		return queue.Msg{}, fmt.Errorf("%w: queued message %d", errNotFound, id)
	}
	return res.Messages[0], nil
}

func (b *apiBackend) queueHold(ctx context.Context, f msgFilter, hold bool) (countJSON, error) {
	var res webapi.QueueCountResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		if hold {
			res, err = api.QueueHold(ctx, webapi.QueueHoldRequest{Account: f.account, QueueFilter: f.api(), All: f.all})
		} else {
			res, err = api.QueueRelease(ctx, webapi.QueueReleaseRequest{Account: f.account, QueueFilter: f.api(), All: f.all})
		}
		return err
	})
	return countJSON{Matched: res.Matched, Changed: res.Changed, IDs: res.IDs}, err
}

func apiOutcomes(l []webapi.Outcome) []outcomeJSON {
	r := make([]outcomeJSON, len(l))
	for i, o := range l {
		r[i] = outcomeJSON{o.MsgID, o.Recipient, o.Result, o.DSN, o.Hook, o.Retired}
	}
	return r
}

func (b *apiBackend) queueFail(ctx context.Context, f msgFilter, hf handlerFlags) ([]outcomeJSON, error) {
	var res webapi.QueueOutcomeResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.QueueFail(ctx, webapi.QueueFailRequest{Account: f.account, QueueFilter: f.api(), All: f.all, Reason: hf.reason})
		return err
	})
	return apiOutcomes(res.Outcomes), err
}

func (b *apiBackend) queueCancel(ctx context.Context, f msgFilter, hf handlerFlags) ([]outcomeJSON, error) {
	var res webapi.QueueOutcomeResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.QueueCancel(ctx, webapi.QueueCancelRequest{Account: f.account, QueueFilter: f.api(), All: f.all})
		return err
	})
	return apiOutcomes(res.Outcomes), err
}

func (b *apiBackend) retiredList(ctx context.Context, f queue.RetiredFilter, p paging.Page) ([]queue.MsgRetired, int64, error) {
	var res webapi.RetiredListResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		req := webapi.RetiredListRequest{Account: f.Account, Recipient: f.Recipient, Event: f.Event, Since: f.Since, Before: f.Before, Page: apiPage(p)}
		res, err = api.RetiredList(ctx, req)
		return err
	})
	return res.Messages, res.Next, err
}

func (b *apiBackend) retiredGet(ctx context.Context, id int64) (queue.MsgRetired, error) {
	var res webapi.RetiredGetResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.RetiredGet(ctx, webapi.RetiredGetRequest{ID: id})
		return err
	})
	return res.Message, err
}

// suppressionList: the command's filter without CreatedAfter and
// CreatedBefore, which the API lacks (the command refuses them).
func (b *apiBackend) suppressionList(ctx context.Context, f suppression.Filter, p paging.Page) ([]suppression.Entry, int64, error) {
	var res webapi.SuppressionListResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		req := webapi.SuppressionListRequest{
			Account:  f.Account,
			Category: f.Category,
			Source:   f.Source,
			Search:   f.Search,
			// The server leaves out expired entries at its own time.
			Expired: f.ActiveAt.IsZero(),
			Page:    apiPage(p),
		}
		res, err = api.SuppressionList(ctx, req)
		return err
	})
	var entries []suppression.Entry
	for _, s := range res.Suppressions {
		entries = append(entries, s.Entry())
	}
	return entries, res.Next, err
}

// suppressionAdd imports the entries as one CSV list, in one transaction
// on the server: its SuppressionAdd takes one address per call. The
// import's result has counts only, so each address's entry is looked up
// before and after (by Search): a new ID was added, an entry found before
// was refreshed. When the lookup finds no entry (the server's normalizer
// made another base address from it than the one listed), the entry is
// returned as sent, without ID, added if the import added all.
func (b *apiBackend) suppressionAdd(ctx context.Context, n *suppression.Normalizer, entries []suppression.Entry) ([]addJSON, error) {
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	w.Write([]string{suppression.ColumnAccount, suppression.ColumnAddress, suppression.ColumnCategory, suppression.ColumnSource, suppression.ColumnReason, suppression.ColumnExpiresAt})
	for _, e := range entries {
		expires := ""
		if !e.ExpiresAt.IsZero() {
			expires = e.ExpiresAt.Format(time.RFC3339Nano)
		}
		w.Write([]string{e.Account, e.OriginalAddress, string(e.Category), string(e.Source), e.Reason, expires})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("writing import: %w", err)
	}

	before := make([][]suppression.Entry, len(entries))
	for i, e := range entries {
		var err error
		if before[i], err = b.findEntries(ctx, e); err != nil {
			return nil, err
		}
	}
	var res webapi.SuppressionImportResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: buf.String()})
		return err
	})
	if err != nil {
		return nil, err
	}
	l := make([]addJSON, len(entries))
	for i, e := range entries {
		l[i] = addJSON{Entry: e, Added: res.Added == len(entries)}
		after, err := b.findEntries(ctx, e)
		if err != nil {
			return nil, err
		}
		var match []suppression.Entry
		for _, a := range after {
			if !slices.ContainsFunc(before[i], func(x suppression.Entry) bool { return x.ID == a.ID }) {
				l[i] = addJSON{Entry: a, Added: true}
				match = nil
				break
			}
			if strings.EqualFold(a.OriginalAddress, e.OriginalAddress) || strings.EqualFold(a.BaseAddress, e.OriginalAddress) {
				match = append(match, a)
			}
		}
		if len(match) == 1 {
			l[i] = addJSON{Entry: match[0], Added: false}
		}
	}
	return l, nil
}

// findEntries returns the entries of e's account whose address contains
// e's.
func (b *apiBackend) findEntries(ctx context.Context, e suppression.Entry) ([]suppression.Entry, error) {
	entries, _, err := b.suppressionList(ctx, suppression.Filter{Account: e.Account, Search: e.OriginalAddress}, paging.Page{Limit: paging.MaxLimit})
	return entries, err
}

// suppressionRemove removes one address per call, as the API does: an
// address not on the list stops the command, after those before it.
func (b *apiBackend) suppressionRemove(ctx context.Context, n *suppression.Normalizer, account string, addrs []string) (string, int, error) {
	for i, addr := range addrs {
		err := b.call(ctx, func(ctx context.Context, api *webapi.Client) error {
			_, err := api.SuppressionRemove(ctx, webapi.SuppressionRemoveRequest{EmailAddress: addr, Account: account})
			return err
		})
		if err != nil {
			return addr, i, err
		}
	}
	return "", len(addrs), nil
}

func (b *apiBackend) suppressionImport(ctx context.Context, n *suppression.Normalizer, r io.Reader) (suppression.ImportResult, error) {
	buf, err := io.ReadAll(r)
	if err != nil {
		return suppression.ImportResult{}, fmt.Errorf("reading import: %w", err)
	}
	var res webapi.SuppressionImportResult
	err = b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.SuppressionImport(ctx, webapi.SuppressionImportRequest{CSV: string(buf)})
		return err
	})
	return suppression.ImportResult{Rows: res.Rows, Added: res.Added, Updated: res.Updated}, err
}

// suppressionExport copies the server's CSV to w, counting its records.
func (b *apiBackend) suppressionExport(ctx context.Context, w io.Writer, f suppression.Filter) (int, error) {
	var n int
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) error {
		body, err := api.SuppressionExport(ctx, webapi.SuppressionExportRequest{Account: f.Account, Category: f.Category, Source: f.Source, Search: f.Search})
		if err != nil {
			return err
		}
		defer body.Close()
		r := csv.NewReader(io.TeeReader(body, w))
		r.FieldsPerRecord = -1
		r.ReuseRecord = true
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			} else if err != nil {
				return fmt.Errorf("reading export: %w", err)
			}
			n++
		}
		if n > 0 {
			n-- // The header.
		}
		return nil
	})
	return n, err
}

func hookFilterAPI(f hookqueue.Filter) webapi.HookFilter {
	return webapi.HookFilter{IDs: f.IDs, URL: f.URL, Event: f.Event, QueueMsgID: f.QueueMsgID, SubmittedAfter: f.SubmittedAfter, SubmittedBefore: f.SubmittedBefore}
}

func (b *apiBackend) hookList(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.Hook, int64, error) {
	var res webapi.HookListResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.HookList(ctx, webapi.HookListRequest{Account: f.Account, HookFilter: hookFilterAPI(f), Page: apiPage(p)})
		return err
	})
	return res.Hooks, res.Next, err
}

func (b *apiBackend) hookRetiredList(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.HookRetired, int64, error) {
	var res webapi.HookRetiredListResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		req := webapi.HookRetiredListRequest{Account: f.Account, HookFilter: hookFilterAPI(f), RetireReason: f.RetireReason, Page: apiPage(p)}
		res, err = api.HookRetiredList(ctx, req)
		return err
	})
	return res.Hooks, res.Next, err
}

func (b *apiBackend) hookCancel(ctx context.Context, f hookqueue.Filter) (int, error) {
	var res webapi.HookCancelResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		// The command checked for a filter or -all.
		res, err = api.HookCancel(ctx, webapi.HookCancelRequest{Account: f.Account, HookFilter: hookFilterAPI(f), All: true})
		return err
	})
	return res.Canceled, err
}

func (b *apiBackend) hookRetry(ctx context.Context, f hookqueue.Filter) (int, error) {
	var res webapi.HookRetryResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		// The command checked for a filter or -all.
		res, err = api.HookRetry(ctx, webapi.HookRetryRequest{Account: f.Account, HookFilter: hookFilterAPI(f), All: true})
		return err
	})
	return res.Retried, err
}

func (b *apiBackend) holdRuleList(ctx context.Context) ([]queue.HoldRule, error) {
	var res webapi.HoldRuleListResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.HoldRuleList(ctx, webapi.HoldRuleListRequest{})
		return err
	})
	return res.Rules, err
}

func (b *apiBackend) holdRuleAdd(ctx context.Context, r queue.HoldRule) (holdAddJSON, error) {
	var res webapi.HoldRuleAddResult
	err := b.call(ctx, func(ctx context.Context, api *webapi.Client) (err error) {
		res, err = api.HoldRuleAdd(ctx, webapi.HoldRuleAddRequest{Account: r.Account, SenderDomain: r.SenderDomain, RecipientDomain: r.RecipientDomain})
		return err
	})
	return holdAddJSON{Rule: res.Rule, Held: res.Held}, err
}

// holdRuleRemove checks that every ID is a rule first, so a typo removes
// nothing; the API removes one rule per call.
func (b *apiBackend) holdRuleRemove(ctx context.Context, ids []int64) (int64, error) {
	rules, err := b.holdRuleList(ctx)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(rules, func(r queue.HoldRule) bool { return r.ID == id }) {
			return id, fmt.Errorf("%w: hold rule %d", errNotFound, id)
		}
	}
	for _, id := range ids {
		err := b.call(ctx, func(ctx context.Context, api *webapi.Client) error {
			_, err := api.HoldRuleRemove(ctx, webapi.HoldRuleRemoveRequest{ID: id})
			return err
		})
		if err != nil {
			return id, err
		}
	}
	return 0, nil
}
