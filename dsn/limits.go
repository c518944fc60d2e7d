package dsn

import "errors"

// Limits that bound the memory Parse and Decode use on hostile input. Input
// that exceeds one gets an error, not a truncated result, except for the
// human-readable text, which is cut at MaxTextBody, the recipients, cut at
// MaxRecipients (Message.Truncated), and the extension fields kept in Extra,
// cut at MaxExtraFields.
const (
	MaxRecipients = 1000      // Per-recipient groups kept from one delivery-status part.
	MaxFieldSize  = 64 * 1024 // One unfolded header or delivery-status field.
	MaxStatusSize = 4 << 20   // Bytes of delivery-status read by Decode.
	MaxParts      = 1000      // MIME entities in one message.
	MaxDepth      = 16        // Nesting of multiparts and message/rfc822.
	MaxTextBody   = 64 * 1024 // Bytes of decoded human-readable text kept by Parse.
	MaxHeaderSize = 1 << 20   // Bytes read from the returned header to find its Message-ID.
	// MaxExtraFields bounds the fields kept in the Extra maps of a
	// Message and its Recipients: a status part of many short extension
	// fields would otherwise cost map entries many times its size.
	// Further fields are dropped.
	MaxExtraFields = 8 * MaxRecipients
)

// errTruncated stops Decode at the recipient after MaxRecipients.
var errTruncated = errors.New("dsn: more recipients than MaxRecipients")
