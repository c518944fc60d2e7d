package pgsuppression

// The statements, for the plan tests.
var (
	GetQuery     = getQuery
	CleanupQuery = cleanupQuery
	ListQuery    = listQuery
)
