package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/router"
)

// promptRow is one row of the prompts table: the normalised text of a
// routed prompt, kept (when learner.keep_prompts is on) for training the
// local classifier.
type promptRow struct {
	Hash      string    `gorm:"column:hash;primaryKey"`
	Text      string    `gorm:"column:text"`
	FirstSeen time.Time `gorm:"column:first_seen"`
	LastSeen  time.Time `gorm:"column:last_seen"`
}

func (promptRow) TableName() string { return "prompts" }

// KeepPrompts stores the normalised text of prompts under their hash
// (router.PreparePrompt made both), seen at at: a new prompt is added, a
// known one has its last_seen moved forward.
func (s *Store) KeepPrompts(ctx context.Context, prompts []router.Prompt, at time.Time) error {
	if len(prompts) == 0 {
		return nil
	}
	at = dbTime(at)
	byHash := make(map[string]int, len(prompts))
	rows := make([]promptRow, 0, len(prompts))
	for _, p := range prompts {
		text, h := p.Text, p.Hash
		if text == "" {
			continue
		}
		if _, dup := byHash[h]; dup {
			continue // one statement may not touch a row twice (Postgres)
		}
		byHash[h] = len(rows)
		rows = append(rows, promptRow{Hash: h, Text: noNUL(text), FirstSeen: at, LastSeen: at})
	}
	if len(rows) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "hash"}},
		DoUpdates: clause.AssignmentColumns([]string{"last_seen"}),
	}).CreateInBatches(rows, insertChunk).Error
	if err != nil {
		return fmt.Errorf("keep %d prompts: %w", len(rows), err)
	}
	return nil
}

// PrunePrompts deletes the prompts last seen before before and returns
// how many went.
func (s *Store) PrunePrompts(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("last_seen < ?", dbTime(before)).Delete(&promptRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("prune prompts: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// CountPrompts returns how many prompts are kept.
func (s *Store) CountPrompts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&promptRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count prompts: %w", err)
	}
	return n, nil
}

// KeptPrompts returns, for every routed request served in [from, to)
// whose prompt text is kept, that text by request id, and the LLM
// classifier's cached analysis of the prompt, by request id, where the
// cache has one: the local classifier's training text and labels.
func (s *Store) KeptPrompts(ctx context.Context, from, to time.Time) (texts map[string]string, analyses map[string]router.Analysis, err error) {
	const q = `SELECT r.id, p.text, c.analysis
	FROM requests r JOIN prompts p ON p.hash = r.prompt_hash
	LEFT JOIN classifications c ON c."key" = r.prompt_hash
	WHERE r.created_at >= ? AND r.created_at < ? AND r.complexity <> ''`
	var rows []struct {
		ID       string
		Text     string
		Analysis *string
	}
	if err := s.db.WithContext(ctx).Raw(q, dbTime(from), dbTime(to)).Scan(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("kept prompts: %w", err)
	}
	texts = make(map[string]string, len(rows))
	analyses = make(map[string]router.Analysis)
	for _, r := range rows {
		texts[r.ID] = r.Text
		if r.Analysis == nil {
			continue
		}
		var a router.Analysis
		if err := json.Unmarshal([]byte(*r.Analysis), &a); err != nil || a.Validate() != nil {
			continue // a bad cache entry is no label; the text still trains
		}
		analyses[r.ID] = a
	}
	return texts, analyses, nil
}

// PromptText returns the kept normalised text of the prompt with hash;
// ok is false when it is not kept (learner.keep_prompts off, or pruned).
func (s *Store) PromptText(ctx context.Context, hash string) (text string, ok bool, err error) {
	if hash == "" {
		return "", false, nil
	}
	var rows []promptRow
	if err := s.db.WithContext(ctx).Where("hash = ?", hash).Limit(1).Find(&rows).Error; err != nil {
		return "", false, fmt.Errorf("prompt text: %w", err)
	}
	if len(rows) == 0 {
		return "", false, nil
	}
	return rows[0].Text, true, nil
}
