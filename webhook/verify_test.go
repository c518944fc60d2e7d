package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Signatures made by the reference library verify with Verify, and
// signatures made by the queue verify with the reference library.
func TestVerifyReference(t *testing.T) {
	now := time.Now().Truncate(time.Second) // The reference verifier reads time.Now.
	bodies := [][]byte{
		[]byte(`{"Version":0,"Event":"delivered","QueueMsgID":101,"Extra":{}}`),
		[]byte(``),
		[]byte("{\"Error\":\"550 5.1.1 <j\u00f6rg@example.org>: user unknown\"}\n"),
		[]byte(strings.Repeat("x", 100000)),
	}
	for _, secret := range []string{secret1, secret2, strings.TrimPrefix(secret1, "whsec_")} {
		ref, err := standardwebhooks.NewWebhook(secret)
		tcheck(t, err, "reference webhook")
		for _, body := range bodies {
			for _, ts := range []time.Time{now, now.Add(-4 * time.Minute), now.Add(4 * time.Minute)} {
				id := "msg_" + strconv.Itoa(len(body))
				sig, err := ref.Sign(id, ts, body)
				tcheck(t, err, "reference sign")
				header := signedHeader(id, ts, sig)
				tcheck(t, Verify([]string{secret}, header, body, now, 0), "verify reference signature")

				ours, err := Sign([]string{secret}, id, ts, body)
				tcheck(t, err, "sign")
				tcompare(t, ours, sig, "signature")
				tcheck(t, ref.Verify(body, signedHeader(id, ts, ours)), "reference verifies ours")
			}
		}
	}
	// A queue signing with two secrets: the reference accepts each.
	sig, err := Sign([]string{secret1, secret2}, "bkh_7", now, bodies[0])
	tcheck(t, err, "sign")
	for _, s := range []string{secret1, secret2} {
		ref, err := standardwebhooks.NewWebhook(s)
		tcheck(t, err, "reference webhook")
		tcheck(t, ref.Verify(bodies[0], signedHeader("bkh_7", now, sig)), "reference verifies ours with "+s)
	}
}

// Verify accepts and refuses what the reference library does, and says
// why with a sentinel error.
func TestVerify(t *testing.T) {
	const other = "whsec_b3RoZXIgc2VjcmV0IGZvciB0ZXN0cw=="
	now := time.Now().Truncate(time.Second) // The reference verifier reads time.Now.
	body := []byte(`{"Version":0,"Event":"failed"}`)
	sign := func(secret, id string, ts time.Time, body []byte) string {
		ref, err := standardwebhooks.NewWebhook(secret)
		tcheck(t, err, "reference webhook")
		s, err := ref.Sign(id, ts, body)
		tcheck(t, err, "reference sign")
		return s
	}
	good := signedHeader("bkh_1", now, sign(secret1, "bkh_1", now, body))
	with := func(key, value string) http.Header {
		h := good.Clone()
		if value == "" {
			h.Del(key)
		} else {
			h.Set(key, value)
		}
		return h
	}
	for _, tc := range []struct {
		name    string
		secrets []string
		header  http.Header
		body    []byte
		exp     error // nil: valid.
	}{
		{"valid", []string{secret1}, good, body, nil},
		{"rotation, old secret second", []string{secret2, secret1}, good, body, nil},
		{"rotation, signer uses both", []string{secret2},
			with("webhook-signature", sign(secret1, "bkh_1", now, body)+" "+sign(secret2, "bkh_1", now, body)), body, nil},
		{"other versions ignored", []string{secret1},
			with("webhook-signature", "v1a,c2lnbmF0dXJl v2,x "+sign(secret1, "bkh_1", now, body)), body, nil},
		{"4 minutes old", []string{secret1}, signedHeader("bkh_1", now.Add(-4*time.Minute), sign(secret1, "bkh_1", now.Add(-4*time.Minute), body)), body, nil},
		{"wrong secret", []string{other}, good, body, ErrSignatureMismatch},
		{"body replaced", []string{secret1}, good, []byte(" "), ErrSignatureMismatch},
		{"body extended", []string{secret1}, good, append(append([]byte(nil), body...), ' '), ErrSignatureMismatch},
		{"id changed", []string{secret1}, with("webhook-id", "bkh_2"), body, ErrSignatureMismatch},
		{"timestamp changed", []string{secret1}, with("webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10)), body, ErrSignatureMismatch},
		{"only another version", []string{secret1}, with("webhook-signature", strings.Replace(good.Get("webhook-signature"), "v1,", "v2,", 1)), body, ErrSignatureMismatch},
		{"signature without version", []string{secret1}, with("webhook-signature", strings.TrimPrefix(good.Get("webhook-signature"), "v1,")), body, ErrSignatureMismatch},
		{"signature truncated", []string{secret1}, with("webhook-signature", good.Get("webhook-signature")[:20]), body, ErrSignatureMismatch},
		{"10 minutes old", []string{secret1}, signedHeader("bkh_1", now.Add(-10*time.Minute), sign(secret1, "bkh_1", now.Add(-10*time.Minute), body)), body, ErrBadTimestamp},
		{"10 minutes ahead", []string{secret1}, signedHeader("bkh_1", now.Add(10*time.Minute), sign(secret1, "bkh_1", now.Add(10*time.Minute), body)), body, ErrBadTimestamp},
		{"timestamp not a number", []string{secret1}, with("webhook-timestamp", "yesterday"), body, ErrBadTimestamp},
		{"timestamp past int64", []string{secret1}, with("webhook-timestamp", "99999999999999999999"), body, ErrBadTimestamp},
		{"timestamp at int64 limit", []string{secret1}, with("webhook-timestamp", "-9223372036854775808"), body, ErrBadTimestamp},
		{"no id", []string{secret1}, with("webhook-id", ""), body, ErrNoSignature},
		{"no timestamp", []string{secret1}, with("webhook-timestamp", ""), body, ErrNoSignature},
		{"no signature", []string{secret1}, with("webhook-signature", ""), body, ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secrets, tc.header, tc.body, now, 0)
			if !errors.Is(err, tc.exp) || (tc.exp == nil) != (err == nil) {
				t.Fatalf("got %v, expected %v", err, tc.exp)
			}
			refOK := false
			for _, s := range tc.secrets {
				ref, err := standardwebhooks.NewWebhook(s)
				tcheck(t, err, "reference webhook")
				if ref.Verify(tc.body, tc.header) == nil {
					refOK = true
				}
			}
			tcompare(t, err == nil, refOK, "verified, as the reference library")
		})
	}
}

// The tolerance is the receiver's choice; the secrets must be valid.
func TestVerifyArguments(t *testing.T) {
	now := time.Unix(1711497600, 0)
	body := []byte("{}")
	sig, err := Sign([]string{secret1}, "bkh_1", now.Add(-time.Hour), body)
	tcheck(t, err, "sign")
	header := signedHeader("bkh_1", now.Add(-time.Hour), sig)
	for _, tc := range []struct {
		name      string
		secrets   []string
		tolerance time.Duration
		exp       error // nil: valid.
		errSub    string
	}{
		{"default tolerance", []string{secret1}, 0, ErrBadTimestamp, ""},
		{"tolerance one hour", []string{secret1}, time.Hour, nil, ""},
		{"tolerance just short", []string{secret1}, time.Hour - time.Second, ErrBadTimestamp, ""},
		{"no secrets", nil, time.Hour, nil, "no secrets"},
		{"secret not base64", []string{"whsec_%%%"}, time.Hour, nil, "not whsec_<base64>"},
		{"empty secret", []string{"whsec_"}, time.Hour, nil, "empty secret"},
		{"invalid among valid", []string{secret1, "whsec_%%%"}, time.Hour, nil, "not whsec_<base64>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secrets, header, body, now, tc.tolerance)
			switch {
			case tc.errSub != "":
				if err == nil || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("got %v, expected an error with %q", err, tc.errSub)
				}
			case !errors.Is(err, tc.exp) || (tc.exp == nil) != (err == nil):
				t.Fatalf("got %v, expected %v", err, tc.exp)
			}
		})
	}
}

func signedHeader(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

// BenchmarkVerify measures checking one signed payload of a typical size
// against two secrets, the second matching.
func BenchmarkVerify(b *testing.B) {
	now := time.Unix(1711497600, 0)
	body := []byte(strings.Repeat("x", 600))
	sig, err := Sign([]string{secret1}, "bkh_1", now, body)
	tcheck(b, err, "sign")
	header := signedHeader("bkh_1", now, sig)
	secrets := []string{secret2, secret1}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := Verify(secrets, header, body, now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
