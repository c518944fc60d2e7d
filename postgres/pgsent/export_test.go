package pgsent

// The statements, for the plan tests.
var (
	ByQuery         = byQuery
	SubmissionQuery = submissionQuery
	CleanupQuery    = cleanupQuery
)
