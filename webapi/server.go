package webapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

// Defaults of the Server's limits.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxImportBytes = 32 << 20
	DefaultTimeout        = 30 * time.Second
)

// Server is the API's http.Handler, mounted by the host under a path of
// its choosing with http.StripPrefix, e.g. at "/webapi/v0/" as mox's:
//
//	mux.Handle("/webapi/v0/", http.StripPrefix("/webapi/v0", server))
//
// Its exported fields are its
// configuration; the zero value of each is documented. Fields must not be
// changed once the Server serves requests. Two Servers over two databases
// work side by side: there is no package-level state.
type Server struct {
	// DB is the host's database, opened with queue.DBTypes. Without it
	// every call that reads or changes it fails with code "server": all
	// but the Suppression and Hook methods when SuppressionList and
	// HookHistory are set.
	DB *bstore.DB

	// Handler fails and cancels queued messages (QueueFail, QueueCancel),
	// so that DSNs, webhooks and retired records follow the host's
	// settings; it is kicked after they commit. Nil: those two methods
	// fail with code "notConfigured".
	Handler *queue.Handler

	// Hooks is the host's webhook queue. HookRetry and HookCancel use its
	// Retry and Cancel, which open their own transaction on Hooks.DB (the
	// same database as DB) and wake its worker. Nil, or a nil Hooks.DB:
	// those two fail with code "notConfigured"; the listings work
	// without it. Unused when HookHistory is set.
	Hooks *hookqueue.Queue

	// HookHistory is where the Hook methods and RetiredGet find webhooks.
	// Nil: the records of Hooks in DB, listed in DB's read transactions,
	// retried and canceled with Hooks (see there). Set it when webhooks
	// are delivered elsewhere, e.g. on River (package pgapi of the nested
	// module github.com/bouncekit/bouncekit/postgres); Hooks is unused
	// then.
	HookHistory HookHistory

	// Suppressions is the suppression list in DB; its Normalizer computes
	// base addresses. Only its Tx methods are used, in DB's transactions,
	// at the call's time (Now). Nil: a Store with the zero Normalizer.
	// Unused when SuppressionList is set.
	Suppressions *suppression.Store

	// SuppressionList is the suppression list the Suppression methods
	// use. Nil: Suppressions in DB, each call one transaction of DB. Set
	// it for a list kept elsewhere, e.g. on PostgreSQL shared by several
	// nodes (pgsuppression.Store of the nested module
	// github.com/bouncekit/bouncekit/postgres); Suppressions is unused
	// then.
	SuppressionList SuppressionList

	// Auth authenticates every call. Nil: every call is refused with 401.
	Auth Authenticator

	// MaxBodyBytes bounds a request's body, except SuppressionImport's.
	// Zero: DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// MaxImportBytes bounds SuppressionImport's body, which holds a whole
	// CSV list. Zero: DefaultMaxImportBytes.
	MaxImportBytes int64

	// MaxPageSize is the largest page a listing returns; a request for
	// more gets this many and a Next cursor. Zero, or more than
	// paging.MaxLimit: paging.MaxLimit. A list request without Limit gets
	// paging.DefaultLimit records, except SuppressionList, which gets
	// MaxPageSize: a mox client asks for its whole list.
	MaxPageSize int

	// Timeout bounds each call, through its context. Zero: DefaultTimeout;
	// negative: no limit but the request's own context.
	Timeout time.Duration

	// AuthFailures is how many failed authentications a client (an IPv4
	// address, an IPv6 /64) may make in a row before it must wait; it
	// regains one per AuthFailureInterval. A client over the limit gets
	// 429 with Retry-After for every call, with good credentials too,
	// before they are checked. A successful authentication does not reset
	// the count: one known password must not buy guesses at others. Zero:
	// DefaultAuthFailures; negative: no limit.
	AuthFailures int

	// AuthFailureInterval: see AuthFailures. Zero:
	// DefaultAuthFailureInterval.
	AuthFailureInterval time.Duration

	// ClientIP returns the address of the client for the failed
	// authentication limit, e.g. from a header a reverse proxy sets. Nil:
	// the address of r.RemoteAddr.
	ClientIP func(r *http.Request) netip.Addr

	// QueueChanged, if set, is called after a call committed a change to
	// queued messages that the host's delivery loop should look at
	// (QueueRelease, QueueReschedule, QueueFail, QueueCancel), e.g. to
	// wake it. It is called before the response is written, so it must
	// not block.
	QueueChanged func()

	// Now returns the current time: for expiry, rescheduling to "now" and
	// the failed authentication limit. Nil: time.Now.
	Now func() time.Time

	// Logger receives a debug line per call and errors. Nil: discard.
	Logger *slog.Logger

	once      sync.Once
	limiter   *authLimiter
	methods   map[string]method
	zeroStore suppression.Store
	zeroHooks hookqueue.Queue
}

var _ http.Handler = (*Server)(nil)

// method decodes a request body and calls a method.
type method func(c *call, request []byte) (any, error)

// typed returns the method for fn, decoding its request type.
func typed[Req, Resp any](fn func(c *call, req Req) (Resp, error)) method {
	return func(c *call, request []byte) (any, error) {
		var req Req
		if err := decodeRequest(request, &req); err != nil {
			return nil, err
		}
		return fn(c, req)
	}
}

func (s *Server) init() {
	s.once.Do(func() {
		burst := s.AuthFailures
		if burst == 0 {
			burst = DefaultAuthFailures
		}
		if burst > 0 {
			s.limiter = &authLimiter{burst: burst, interval: orDefault(s.AuthFailureInterval, DefaultAuthFailureInterval)}
		}
		s.methods = map[string]method{
			"SuppressionList":    typed((*call).suppressionList),
			"SuppressionAdd":     typed((*call).suppressionAdd),
			"SuppressionRemove":  typed((*call).suppressionRemove),
			"SuppressionPresent": typed((*call).suppressionPresent),
			"SuppressionExport":  typed((*call).suppressionExport),
			"SuppressionImport":  typed((*call).suppressionImport),
			"RetiredList":        typed((*call).retiredList),
			"RetiredGet":         typed((*call).retiredGet),
			"HookList":           typed((*call).hookList),
			"HookRetiredList":    typed((*call).hookRetiredList),
			"HookRetry":          typed((*call).hookRetry),
			"HookCancel":         typed((*call).hookCancel),
			"QueueList":          typed((*call).queueList),
			"QueueHold":          typed((*call).queueHold),
			"QueueRelease":       typed((*call).queueRelease),
			"QueueFail":          typed((*call).queueFail),
			"QueueCancel":        typed((*call).queueCancel),
			"QueueReschedule":    typed((*call).queueReschedule),
			"HoldRuleList":       typed((*call).holdRuleList),
			"HoldRuleAdd":        typed((*call).holdRuleAdd),
			"HoldRuleRemove":     typed((*call).holdRuleRemove),
		}
	})
}

// orDefault returns v, or def when v is zero.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func (s *Server) now() time.Time {
	return inject.Now(s.Now)
}

func (s *Server) log() *slog.Logger {
	return inject.Logger(s.Logger)
}

func (s *Server) store() *suppression.Store {
	if s.Suppressions != nil {
		return s.Suppressions
	}
	return &s.zeroStore
}

// suppressions returns the suppression list of a call at now.
func (s *Server) suppressions(now time.Time) SuppressionList {
	if s.SuppressionList != nil {
		return s.SuppressionList
	}
	return bstoreList{db: s.DB, store: s.store(), now: now}
}

// hooks returns the webhook history.
func (s *Server) hooks() HookHistory {
	if s.HookHistory != nil {
		return s.HookHistory
	}
	q := s.Hooks
	if q == nil {
		q = &s.zeroHooks // Listings need none of its settings.
	}
	return bstoreHooks{db: s.DB, queue: q}
}

func (s *Server) maxPage() int {
	if s.MaxPageSize <= 0 {
		return paging.MaxLimit
	}
	return min(s.MaxPageSize, paging.MaxLimit)
}

func (s *Server) clientIP(r *http.Request) netip.Addr {
	if s.ClientIP != nil {
		return s.ClientIP(r)
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// Methods returns the names of the API's methods, sorted.
func (s *Server) Methods() []string {
	s.init()
	l := make([]string, 0, len(s.methods))
	for name := range s.methods {
		l = append(l, name)
	}
	slices.Sort(l)
	return l
}

// ServeHTTP calls the method the request's path names: POST /{Method},
// the path being the one below where the host mounted the Server with
// http.StripPrefix. A GET of the base path lists the methods.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	t0 := time.Now()
	name := strings.TrimPrefix(r.URL.Path, "/")
	log := s.log().With(slog.String("method", name))

	if name == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "bouncekit webapi; POST to a method, with HTTP basic authentication:\n\n%s\n", strings.Join(s.Methods(), "\n"))
		return
	}
	m := s.methods[name]
	if m == nil {
		s.writeError(w, log, &Error{CodeUnknownMethod, fmt.Sprintf("unknown method %q", name)})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 - method not allowed - use POST", http.StatusMethodNotAllowed)
		return
	}

	id, ok := s.authenticate(w, r, log)
	if !ok {
		return
	}
	log = log.With(slog.String("account", id.Account), slog.Bool("operator", id.Operator))

	ctx := r.Context()
	if timeout := orDefault(s.Timeout, DefaultTimeout); timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	limit := orDefault(s.MaxBodyBytes, DefaultMaxBodyBytes)
	if name == "SuppressionImport" {
		limit = orDefault(s.MaxImportBytes, DefaultMaxImportBytes)
	}
	request, err := readRequest(w, r, limit)
	if err != nil {
		s.writeError(w, log, err)
		return
	}

	c := &call{s: s, ctx: ctx, id: id, now: s.now()}
	result, err := m(c, request)
	if err != nil {
		s.writeError(w, log, err)
		return
	}
	// After the commit, before the response: a client that got its answer
	// finds the host's delivery loop woken.
	for _, f := range c.after {
		f()
	}
	if st, ok := result.(*stream); ok {
		s.writeStream(w, log, st)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(result); err != nil {
			log.Debug("writing response", slog.Any("err", err))
		}
	}
	log.Debug("webapi call", slog.String("result", "ok"), slog.Duration("duration", time.Since(t0)))
}

// authenticate applies the failed authentication limit and the
// Authenticator. It writes the response when it returns false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, log *slog.Logger) (Identity, bool) {
	ip := s.clientIP(r)
	if s.limiter != nil {
		if wait := s.limiter.wait(ip, s.now()); wait > 0 {
			log.Debug("too many failed authentications", slog.Any("clientip", ip))
			// RFC 6585 section 4, with RFC 9110 section 10.2.3 Retry-After
			// in seconds.
			w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(wait.Seconds())), 10))
			http.Error(w, "429 - too many failed authentications, try again later", http.StatusTooManyRequests)
			return Identity{}, false
		}
	}
	var id Identity
	err := ErrNoCredentials
	if s.Auth != nil {
		id, err = s.Auth.Authenticate(r)
	}
	if err == nil && id.Account == "" && !id.Operator {
		err = errors.New("webapi: authenticator returned neither account nor operator")
		log.Error("authentication", slog.Any("err", err))
	}
	if err != nil {
		if !errors.Is(err, ErrNoCredentials) && s.limiter != nil {
			s.limiter.failed(ip, s.now())
		}
		if errors.Is(err, ErrBadCredentials) || errors.Is(err, ErrNoCredentials) {
			log.Debug("authentication failed", slog.Any("err", err), slog.Any("clientip", ip))
		} else {
			log.Error("authentication failed", slog.Any("err", err), slog.Any("clientip", ip))
		}
		// The same answer for an unknown account, a wrong password and
		// missing credentials. RFC 9110 section 11.6.1: a 401 carries a
		// challenge; RFC 7617 section 2.1: charset.
		w.Header().Set("WWW-Authenticate", `Basic realm="webapi", charset="UTF-8"`)
		http.Error(w, "401 - unauthorized - use HTTP basic authentication", http.StatusUnauthorized)
		return Identity{}, false
	}
	return id, true
}

// readRequest returns the request JSON: the form field "request" (as mox
// sends it), or the body of an application/json request.
func readRequest(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, &Error{CodeProtocol, fmt.Sprintf("content-type %q: %v", r.Header.Get("Content-Type"), err)}
	}
	var request []byte
	switch ct {
	case "application/json":
		request, err = io.ReadAll(r.Body)
	case "application/x-www-form-urlencoded":
		if err = r.ParseForm(); err == nil {
			request = []byte(r.PostFormValue("request"))
		}
	case "multipart/form-data":
		// Memory up to the limit: a request is never written to disk.
		if err = r.ParseMultipartForm(limit); err == nil {
			request = []byte(r.PostFormValue("request"))
			r.MultipartForm.RemoveAll()
		}
	default:
		return nil, &Error{CodeProtocol, fmt.Sprintf("unsupported content-type %q: use application/x-www-form-urlencoded with form field \"request\", or application/json", ct)}
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, &Error{CodeTooLarge, fmt.Sprintf("request body larger than %d bytes", limit)}
	} else if err != nil {
		return nil, &Error{CodeProtocol, fmt.Sprintf("reading request: %v", err)}
	}
	if len(bytes.TrimSpace(request)) == 0 {
		return nil, &Error{CodeProtocol, "missing or empty request"}
	}
	return request, nil
}

// decodeRequest decodes one JSON object into req, refusing unknown fields
// and anything after the object.
func decodeRequest(request []byte, req any) error {
	dec := json.NewDecoder(bytes.NewReader(request))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return &Error{CodeProtocol, fmt.Sprintf("parsing request: %v", err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{CodeProtocol, "parsing request: data after the request object"}
	}
	return nil
}

// writeError writes err as a 400 response with an Error object.
func (s *Server) writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	e := asError(err)
	if e.Code == CodeServer && !errors.Is(err, context.Canceled) { // Canceled: the client went away.
		log.Error("webapi call", slog.String("result", string(e.Code)), slog.Any("err", err))
	} else {
		log.Debug("webapi call", slog.String("result", string(e.Code)), slog.String("message", e.Message))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if werr := enc.Encode(e); werr != nil {
		log.Debug("writing error response", slog.Any("err", werr))
	}
}

// asError returns the Error for err: err itself, "timeout" for a deadline,
// "server" for anything else.
func asError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{CodeTimeout, "the call took longer than the server allows"}
	}
	return &Error{CodeServer, err.Error()}
}

// stream is a non-JSON result, written by write within the call's
// context.
type stream struct {
	contentType string
	write       func(w io.Writer) error
}

// lazyWriter sends the 200 status and headers with the first byte, so an
// error before it can still be a 400 response.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string
	started     bool
}

func (lw *lazyWriter) Write(p []byte) (int, error) {
	if !lw.started {
		lw.started = true
		lw.w.Header().Set("Content-Type", lw.contentType)
		lw.w.WriteHeader(http.StatusOK)
	}
	return lw.w.Write(p)
}

// writeStream writes a streamed result. An error after the first byte
// aborts the response, so the client sees a broken transfer rather than a
// short one.
func (s *Server) writeStream(w http.ResponseWriter, log *slog.Logger, st *stream) {
	lw := &lazyWriter{w: w, contentType: st.contentType}
	err := st.write(lw)
	if err == nil && !lw.started {
		_, err = lw.Write(nil)
	}
	if err == nil {
		return
	}
	if !lw.started {
		s.writeError(w, log, err)
		return
	}
	log.Info("webapi call aborted while streaming its result", slog.Any("err", err))
	panic(http.ErrAbortHandler)
}

// call is one method call: the caller and the time it started.
type call struct {
	s     *Server
	ctx   context.Context
	id    Identity
	now   time.Time
	after []func() // Run after the commit, before the response.
}

func errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{code, fmt.Sprintf(format, args...)}
}

// scope returns the account a request's Account field stands for. For an
// account: its own, and "forbidden" for any other. For an operator: the
// one named, empty meaning all.
func (c *call) scope(requested string) (string, error) {
	if c.id.Operator {
		return requested, nil
	}
	if requested == "" || requested == c.id.Account {
		return c.id.Account, nil
	}
	return "", errorf(CodeForbidden, "account %q is not the authenticated account", requested)
}

// one returns the single account of a request that acts on one: the
// requested one, or else the caller's own.
func (c *call) one(requested string) (string, error) {
	account, err := c.scope(requested)
	if err != nil {
		return "", err
	}
	if account == "" {
		account = c.id.Account
	}
	if account == "" {
		return "", errorf(CodeUser, "an operator without an account of its own must name an Account")
	}
	return account, nil
}

// owns reports whether the caller may see a record of account.
func (c *call) owns(account string) bool {
	return c.id.Operator || account == c.id.Account
}

// page returns the library page for p, its size capped.
func (c *call) page(p Page) paging.Page {
	lp := p.page()
	lp.Limit = min(lp.Size(), c.s.maxPage())
	return lp
}

func (c *call) read(fn func(tx *bstore.Tx) error) error {
	return read(c.ctx, c.s.DB, fn)
}

func (c *call) write(fn func(tx *bstore.Tx) error) error {
	return write(c.ctx, c.s.DB, fn)
}

// suppressions returns the suppression list.
func (c *call) suppressions() SuppressionList {
	return c.s.suppressions(c.now)
}

// queueChanged arranges for QueueChanged to be called after the commit.
func (c *call) queueChanged() {
	if c.s.QueueChanged != nil {
		c.after = append(c.after, c.s.QueueChanged)
	}
}

// nonNil returns l, or an empty slice for nil: lists are [] in JSON, as
// mox's.
func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}
