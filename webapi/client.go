package webapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls the methods of a Server, or the suppression methods of a mox
// webapi. Each method sends its request as mox's client does: JSON in the
// form field "request", with HTTP basic authentication.
type Client struct {
	// BaseURL is where the Server is mounted, e.g.
	// "https://mail.example/webapi/v0/". A missing final slash is added.
	BaseURL string

	// Username and Password are sent with HTTP basic authentication when
	// Username is not empty.
	Username string
	Password string

	// HTTPClient makes the requests. Nil: http.DefaultClient.
	HTTPClient *http.Client
}

// Errors of Client methods for responses other than 200 and 400, wrapped
// with the status and the response's first line.
var (
	ErrUnauthorized = errors.New("webapi: authentication failed")      // 401.
	ErrRateLimited  = errors.New("webapi: too many failed logins")     // 429.
	ErrStatus       = errors.New("webapi: unexpected response status") // Any other.
)

// Limits on response bodies the Client reads.
const (
	maxResultBytes = 256 << 20 // A page of a thousand messages with their results.
	maxErrorBytes  = 16 << 10
)

func (c Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// do posts req to method and returns the response when its status is 200.
func (c Client) do(ctx context.Context, method string, req any) (*http.Response, error) {
	buf, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("webapi: encoding request: %w", err)
	}
	form := url.Values{"request": {string(buf)}}
	base := c.BaseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, base+method, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("webapi: making request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.Username != "" {
		hreq.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := c.httpClient().Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("webapi: %s: %w", method, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	if err != nil {
		return nil, fmt.Errorf("webapi: %s: reading error response: %w", method, err)
	}
	if resp.StatusCode == http.StatusBadRequest {
		var e Error
		if err := json.Unmarshal(body, &e); err != nil || e.Code == "" {
			return nil, fmt.Errorf("%w: %s: 400 without an error object: %.200q", ErrStatus, method, body)
		}
		return nil, &e
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		err = ErrUnauthorized
	case http.StatusTooManyRequests:
		err = ErrRateLimited
	default:
		err = ErrStatus
	}
	return nil, fmt.Errorf("%w: %s: %s: %.200s", err, method, resp.Status, line)
}

// transact posts req to method and decodes the JSON result.
func transact[R any](ctx context.Context, c Client, method string, req any) (R, error) {
	var result R
	resp, err := c.do(ctx, method, req)
	if err != nil {
		return result, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResultBytes)).Decode(&result); err != nil {
		return result, fmt.Errorf("webapi: %s: decoding result: %w", method, err)
	}
	return result, nil
}

// SuppressionList returns a page of suppression list entries: the
// caller's, or for an operator those of req.Account (all without).
func (c Client) SuppressionList(ctx context.Context, req SuppressionListRequest) (SuppressionListResult, error) {
	return transact[SuppressionListResult](ctx, c, "SuppressionList", req)
}

// SuppressionAdd adds an address to a suppression list, or refreshes its
// entry. Error codes: badAddress.
func (c Client) SuppressionAdd(ctx context.Context, req SuppressionAddRequest) (SuppressionAddResult, error) {
	return transact[SuppressionAddResult](ctx, c, "SuppressionAdd", req)
}

// SuppressionRemove removes an address's entry from a suppression list.
// Error codes: badAddress, notFound.
func (c Client) SuppressionRemove(ctx context.Context, req SuppressionRemoveRequest) (SuppressionRemoveResult, error) {
	return transact[SuppressionRemoveResult](ctx, c, "SuppressionRemove", req)
}

// SuppressionPresent reports whether an address is suppressed. Error
// codes: badAddress.
func (c Client) SuppressionPresent(ctx context.Context, req SuppressionPresentRequest) (SuppressionPresentResult, error) {
	return transact[SuppressionPresentResult](ctx, c, "SuppressionPresent", req)
}

// SuppressionExport returns the matching entries as CSV (RFC 4180, a
// header row of suppression.Columns), streamed: the caller closes it. A
// read error means the export broke off.
func (c Client) SuppressionExport(ctx context.Context, req SuppressionExportRequest) (io.ReadCloser, error) {
	resp, err := c.do(ctx, "SuppressionExport", req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// SuppressionImport adds the entries of a CSV list in one transaction:
// all or, with an error, none. Error codes: user (with the line).
func (c Client) SuppressionImport(ctx context.Context, req SuppressionImportRequest) (SuppressionImportResult, error) {
	return transact[SuppressionImportResult](ctx, c, "SuppressionImport", req)
}

// RetiredList returns a page of messages that left the queue.
func (c Client) RetiredList(ctx context.Context, req RetiredListRequest) (RetiredListResult, error) {
	return transact[RetiredListResult](ctx, c, "RetiredList", req)
}

// RetiredGet returns a retired message with its delivery attempts and
// webhooks. Error codes: notFound.
func (c Client) RetiredGet(ctx context.Context, req RetiredGetRequest) (RetiredGetResult, error) {
	return transact[RetiredGetResult](ctx, c, "RetiredGet", req)
}

// HookList returns a page of pending webhooks.
func (c Client) HookList(ctx context.Context, req HookListRequest) (HookListResult, error) {
	return transact[HookListResult](ctx, c, "HookList", req)
}

// HookRetiredList returns a page of retired webhooks.
func (c Client) HookRetiredList(ctx context.Context, req HookRetiredListRequest) (HookRetiredListResult, error) {
	return transact[HookRetiredListResult](ctx, c, "HookRetiredList", req)
}

// HookRetry makes matching pending webhooks due now.
func (c Client) HookRetry(ctx context.Context, req HookRetryRequest) (HookRetryResult, error) {
	return transact[HookRetryResult](ctx, c, "HookRetry", req)
}

// HookCancel cancels matching pending webhooks.
func (c Client) HookCancel(ctx context.Context, req HookCancelRequest) (HookCancelResult, error) {
	return transact[HookCancelResult](ctx, c, "HookCancel", req)
}

// QueueList returns a page of queued messages.
func (c Client) QueueList(ctx context.Context, req QueueListRequest) (QueueListResult, error) {
	return transact[QueueListResult](ctx, c, "QueueList", req)
}

// QueueHold holds matching queued messages.
func (c Client) QueueHold(ctx context.Context, req QueueHoldRequest) (QueueCountResult, error) {
	return transact[QueueCountResult](ctx, c, "QueueHold", req)
}

// QueueRelease releases matching held messages.
func (c Client) QueueRelease(ctx context.Context, req QueueReleaseRequest) (QueueCountResult, error) {
	return transact[QueueCountResult](ctx, c, "QueueRelease", req)
}

// QueueFail fails matching queued messages permanently, with a failure
// DSN to the sender.
func (c Client) QueueFail(ctx context.Context, req QueueFailRequest) (QueueOutcomeResult, error) {
	return transact[QueueOutcomeResult](ctx, c, "QueueFail", req)
}

// QueueCancel removes matching queued messages without a DSN.
func (c Client) QueueCancel(ctx context.Context, req QueueCancelRequest) (QueueOutcomeResult, error) {
	return transact[QueueOutcomeResult](ctx, c, "QueueCancel", req)
}

// QueueReschedule sets the next delivery attempt of matching queued
// messages.
func (c Client) QueueReschedule(ctx context.Context, req QueueRescheduleRequest) (QueueCountResult, error) {
	return transact[QueueCountResult](ctx, c, "QueueReschedule", req)
}

// HoldRuleList returns hold rules.
func (c Client) HoldRuleList(ctx context.Context, req HoldRuleListRequest) (HoldRuleListResult, error) {
	return transact[HoldRuleListResult](ctx, c, "HoldRuleList", req)
}

// HoldRuleAdd adds a hold rule and holds the queued messages it matches.
func (c Client) HoldRuleAdd(ctx context.Context, req HoldRuleAddRequest) (HoldRuleAddResult, error) {
	return transact[HoldRuleAddResult](ctx, c, "HoldRuleAdd", req)
}

// HoldRuleRemove removes a hold rule. Error codes: notFound.
func (c Client) HoldRuleRemove(ctx context.Context, req HoldRuleRemoveRequest) (HoldRuleRemoveResult, error) {
	return transact[HoldRuleRemoveResult](ctx, c, "HoldRuleRemove", req)
}
