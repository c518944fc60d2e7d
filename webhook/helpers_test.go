package webhook

import "testing"

// Signing secrets used by the tests: whsec_ and the base64 of a key.
const (
	secret1 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secret2 = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24="
)

func tcheck(t testing.TB, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func tcompare[T comparable](t testing.TB, got, exp T, msg string) {
	t.Helper()
	if got != exp {
		t.Fatalf("%s: got %v, expected %v", msg, got, exp)
	}
}
