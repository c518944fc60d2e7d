package webapi

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/bouncekit/bouncekit/suppression"
)

// toSuppression returns the API form of e.
func toSuppression(e suppression.Entry) Suppression {
	return Suppression{
		ID:              e.ID,
		Created:         e.Created,
		Account:         e.Account,
		BaseAddress:     e.BaseAddress,
		OriginalAddress: e.OriginalAddress,
		Manual:          e.Category == suppression.CategoryManual,
		Reason:          e.Reason,
		Category:        e.Category,
		Source:          e.Source,
		Code:            e.Code,
		EnhancedCode:    e.EnhancedCode,
		LastSeen:        e.LastSeen,
		Hits:            e.Hits,
		LastHit:         e.LastHit,
		ExpiresAt:       e.ExpiresAt,
	}
}

// suppressionError maps the store's errors for bad input to codes.
func suppressionError(err error, address string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, suppression.ErrAddress):
		return errorf(CodeBadAddress, "address %q: %v", address, err)
	case errors.Is(err, suppression.ErrInvalid):
		return errorf(CodeUser, "%v", err)
	}
	return err
}

// checkAddress refuses an empty address, and one the bstore list cannot
// normalize before a transaction is opened. Another SuppressionList
// normalizes with its own Normalizer, and refuses a bad address itself.
func (c *call) checkAddress(address string) error {
	if address == "" {
		return errorf(CodeBadAddress, "missing EmailAddress")
	}
	if c.s.SuppressionList != nil {
		return nil
	}
	_, err := c.s.store().Normalizer.Normalize(address)
	return suppressionError(err, address)
}

func checkCategory(cat suppression.Category) error {
	if cat != "" && !slices.Contains(suppression.Categories(), cat) {
		return errorf(CodeUser, "unknown category %q", cat)
	}
	return nil
}

func checkSource(src suppression.Source) error {
	if src != "" && !slices.Contains(suppression.Sources(), src) {
		return errorf(CodeUser, "unknown source %q", src)
	}
	return nil
}

func (c *call) suppressionList(req SuppressionListRequest) (SuppressionListResult, error) {
	account, err := c.scope(req.Account)
	if err != nil {
		return SuppressionListResult{}, err
	}
	if err := errors.Join(checkCategory(req.Category), checkSource(req.Source)); err != nil {
		return SuppressionListResult{}, err
	}
	f := suppression.Filter{Account: account, Category: req.Category, Source: req.Source, Search: req.Search}
	if req.CreatedAfter != nil {
		f.CreatedAfter = *req.CreatedAfter
	}
	if req.CreatedBefore != nil {
		f.CreatedBefore = *req.CreatedBefore
	}
	if !req.Expired {
		f.ActiveAt = c.now
	}
	p := c.page(req.Page)
	if req.Limit == 0 {
		p.Limit = c.s.maxPage() // A mox client asks for the whole list.
	}
	entries, next, err := c.suppressions().List(c.ctx, f, p)
	if err != nil {
		return SuppressionListResult{}, err
	}
	l := make([]Suppression, len(entries))
	for i, e := range entries {
		l[i] = toSuppression(e)
	}
	return SuppressionListResult{Suppressions: l, Next: next}, nil
}

func (c *call) suppressionAdd(req SuppressionAddRequest) (SuppressionAddResult, error) {
	account, err := c.one(req.Account)
	if err != nil {
		return SuppressionAddResult{}, err
	}
	if err := c.checkAddress(req.EmailAddress); err != nil {
		return SuppressionAddResult{}, err
	}
	cat := req.Category
	if cat == "" {
		cat = suppression.CategoryHardBounce
		if req.Manual {
			cat = suppression.CategoryManual
		}
	}
	src := req.Source
	if src == "" {
		src = suppression.SourceAPI
	}
	if err := errors.Join(checkCategory(cat), checkSource(src)); err != nil {
		return SuppressionAddResult{}, err
	}
	e := suppression.Entry{
		Account:         account,
		OriginalAddress: req.EmailAddress,
		Reason:          req.Reason,
		Category:        cat,
		Source:          src,
	}
	if req.ExpiresAt != nil {
		if !req.ExpiresAt.After(c.now) {
			return SuppressionAddResult{}, errorf(CodeUser, "ExpiresAt %s is not in the future", req.ExpiresAt)
		}
		e.ExpiresAt = *req.ExpiresAt
	}
	var res SuppressionAddResult
	e, res.Added, err = c.suppressions().Add(c.ctx, e)
	if err != nil {
		return SuppressionAddResult{}, suppressionError(err, req.EmailAddress)
	}
	res.Suppression = toSuppression(e)
	return res, nil
}

func (c *call) suppressionRemove(req SuppressionRemoveRequest) (SuppressionRemoveResult, error) {
	account, err := c.one(req.Account)
	if err != nil {
		return SuppressionRemoveResult{}, err
	}
	if err := c.checkAddress(req.EmailAddress); err != nil {
		return SuppressionRemoveResult{}, err
	}
	err = c.suppressions().Remove(c.ctx, account, req.EmailAddress)
	if errors.Is(err, suppression.ErrAbsent) {
		return SuppressionRemoveResult{}, errorf(CodeNotFound, "address %q is not on the suppression list", req.EmailAddress)
	}
	return SuppressionRemoveResult{}, suppressionError(err, req.EmailAddress)
}

func (c *call) suppressionPresent(req SuppressionPresentRequest) (SuppressionPresentResult, error) {
	account, err := c.one(req.Account)
	if err != nil {
		return SuppressionPresentResult{}, err
	}
	if err := c.checkAddress(req.EmailAddress); err != nil {
		return SuppressionPresentResult{}, err
	}
	_, present, err := c.suppressions().Lookup(c.ctx, account, req.EmailAddress)
	return SuppressionPresentResult{Present: present}, suppressionError(err, req.EmailAddress)
}

func (c *call) suppressionExport(req SuppressionExportRequest) (*stream, error) {
	account, err := c.scope(req.Account)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(checkCategory(req.Category), checkSource(req.Source)); err != nil {
		return nil, err
	}
	f := suppression.Filter{Account: account, Category: req.Category, Source: req.Source, Search: req.Search, CreatedAfter: req.CreatedAfter, CreatedBefore: req.CreatedBefore}
	st := &stream{
		contentType: "text/csv; charset=utf-8; header=present", // RFC 4180 section 3.
		write: func(w io.Writer) error {
			_, err := c.suppressions().Export(c.ctx, w, f)
			return err
		},
	}
	return st, nil
}

// errNotYours is the check error of an import row of another account.
var errNotYours = errors.New("account is not the authenticated account")

func (c *call) suppressionImport(req SuppressionImportRequest) (SuppressionImportResult, error) {
	check := func(e suppression.Entry) error {
		if !c.owns(e.Account) {
			return errNotYours
		}
		return nil
	}
	res, err := c.suppressions().ImportCheck(c.ctx, strings.NewReader(req.CSV), check)
	var ierr *suppression.ImportError
	switch {
	case errors.Is(err, errNotYours):
		return SuppressionImportResult{}, errorf(CodeForbidden, "%v", err)
	case errors.As(err, &ierr):
		return SuppressionImportResult{}, errorf(CodeUser, "%v", err)
	case err != nil:
		return SuppressionImportResult{}, err
	}
	return SuppressionImportResult{Rows: res.Rows, Added: res.Added, Updated: res.Updated}, nil
}
