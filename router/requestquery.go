package router

import "time"

// RequestQuery selects stored request records for an operator looking
// one up: every non-zero field narrows the result.
type RequestQuery struct {
	Model string
	// Bucket is a complexity ("simple") or a refined bucket
	// ("complex/math"), as BucketOf names them.
	Bucket string
	// Status is a record's status (OutcomeOK and the failure kinds).
	Status string
	// Key is the API key's name.
	Key string
	// From and To bound the record's time, From inclusive, To exclusive.
	From, To time.Time
	// Limit caps the records returned, newest first; zero means
	// MaxRequestQuery.
	Limit int
}

// MaxRequestQuery bounds one query's records, so one page cannot ask for
// the whole table.
const MaxRequestQuery = 500
