// Package suppression keeps per-account suppression lists: addresses a mail
// server stops sending to because they will not accept mail.
package suppression
