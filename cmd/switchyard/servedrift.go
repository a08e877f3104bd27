package main

import (
	"context"
	"log/slog"
	"time"
)

// psiTimeout bounds the drift queries of one scrape.
const psiTimeout = 2 * time.Second

// bucketPSI reads the bucket mix's day-over-day drift at scrape time;
// a failed read reports nothing rather than a stale figure.
func bucketPSI(st interface {
	BucketPSI(ctx context.Context, day time.Time) (map[string]float64, error)
}, log *slog.Logger) func() map[string]float64 {
	return func() map[string]float64 {
		ctx, cancel := context.WithTimeout(context.Background(), psiTimeout)
		defer cancel()
		psi, err := st.BucketPSI(ctx, time.Now())
		if err != nil {
			log.Warn("bucket drift", "err", err)
			return nil
		}
		return psi
	}
}
