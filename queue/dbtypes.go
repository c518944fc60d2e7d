package queue

// DBTypes returns the bstore types of package queue, to pass to bstore.Open
// (or Register) on the host's database. Once the Handler exists this also
// lists the suppression and webhook types it stores.
func DBTypes() []any {
	return []any{Msg{}, MsgRetired{}, HoldRule{}}
}
