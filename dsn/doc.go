// Package dsn composes and parses delivery status notifications (RFC 3464,
// RFC 6522 multipart/report, RFC 6533 internationalized DSNs).
package dsn
