// Package webapi is an HTTP API for applications and operators over
// bouncekit's records: suppression lists, queued and retired messages,
// webhooks and hold rules. Server is the http.Handler a host mounts at a
// path of its choosing; Client calls it.
//
// The suppression methods are wire-compatible with mox's webapi v0.
package webapi
