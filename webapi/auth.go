package webapi

import (
	"context"
	"errors"
	"net/http"
)

// Identity is who a request was authenticated as.
type Identity struct {
	// Account is the host's account the caller acts for. Every method is
	// scoped to it: records of other accounts are not listed, and are
	// "notFound" when named by ID.
	Account string

	// Operator may see and change the records of every account: list
	// requests without an Account list all accounts, and requests may
	// name any Account. An operator need not have an Account of its own.
	Operator bool
}

// Authenticator authenticates a request. It is the host's: a Server calls
// it for every method call.
//
// For missing credentials it returns an error wrapping ErrNoCredentials;
// for an unknown account or a wrong password, ErrBadCredentials. The
// Server answers every error with the same 401 response, whether the
// account exists or not, and counts all but ErrNoCredentials for the limit
// of failed authentications: also other errors, such as a failed lookup,
// which it logs as errors, so that an Authenticator that fails
// differently for unknown accounts gives no way around the limit.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, error)
}

// Errors an Authenticator returns.
var (
	ErrNoCredentials  = errors.New("webapi: no credentials")
	ErrBadCredentials = errors.New("webapi: bad credentials")
)

// BasicAuth is an Authenticator for HTTP basic authentication (RFC 7617)
// over the host's own password check: it is called with the user name and
// password of the request, and returns the Identity or, for an unknown
// user or a wrong password alike, ErrBadCredentials. It should take as
// long for an unknown user as for a wrong password (compare against a
// dummy hash), so timing does not tell them apart either.
type BasicAuth func(ctx context.Context, username, password string) (Identity, error)

var _ Authenticator = BasicAuth(nil)

// Authenticate implements Authenticator.
func (f BasicAuth) Authenticate(r *http.Request) (Identity, error) {
	username, password, ok := r.BasicAuth()
	if !ok {
		return Identity{}, ErrNoCredentials
	}
	return f(r.Context(), username, password)
}
