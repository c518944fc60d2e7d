//go:build race

package hostile

// raceFactor multiplies the bounds under the race detector, where
// sync.Pool drops objects on purpose (regexp machines are pooled) and
// instrumented code allocates more.
const raceFactor = 8
