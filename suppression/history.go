package suppression

// UsesHistory reports whether ProcessTx's policy reads c.History for c
// (Policy.UsesHistory), so a caller can skip reading it from its database.
func (s *Store) UsesHistory(c Check) bool {
	return s.Policy.UsesHistory(c)
}
