package router

import (
	"encoding/json"
	"time"
)

// EvalRun is one recorded `switchyard eval` run, as the admin page lists
// it. Params and Result are JSON documents kept as they are (the eval
// command's options and its result object); the store checks they are
// valid JSON when it saves them.
type EvalRun struct {
	ID        int64
	CreatedAt time.Time
	Dataset   string
	Params    json.RawMessage
	Result    json.RawMessage
}
