package router

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// versionMem is an in-memory StartStore.
type versionMem struct{ versions []Version }

func (m *versionMem) SeedVersion(_ context.Context, t Table) (Version, error) {
	if len(m.versions) == 0 {
		m.versions = append(m.versions, Version{ID: 1, Status: StatusActive, Source: SourceConfig, Table: t})
	}
	for _, v := range m.versions {
		if v.Status == StatusActive {
			return v, nil
		}
	}
	return Version{}, &Error{Kind: KindNotFound, Message: "no active version"}
}

func (m *versionMem) ListVersions(context.Context) ([]Version, error) { return m.versions, nil }

func (m *versionMem) CreateVersion(_ context.Context, v Version) (Version, error) {
	v.ID = int64(len(m.versions) + 1)
	m.versions = append(m.versions, v)
	return v, nil
}

func TestStartVersion(t *testing.T) {
	models := Catalog{"a": {Name: "a"}, "b": {Name: "b"}}
	table := func(first, second string) Table {
		return Table{"simple": {first, second}, "moderate": {"a", "b"}, "complex": {"a", "b"}}
	}
	onlyB := Catalog{"b": {Name: "b"}}
	bOnly := Table{"simple": {"b"}, "moderate": {"b"}, "complex": {"b"}}
	tests := []struct {
		name       string
		stored     []Version
		configured Table
		models     Catalog
		wantID     int64 // the version that routes
		wantStored int   // versions after the start
	}{
		{"an empty store is seeded", nil, table("a", "b"), models, 1, 1},
		{"the same configuration adds nothing", []Version{{ID: 1, Status: StatusActive, Source: SourceConfig, Table: table("a", "b")}}, table("a", "b"), models, 1, 1},
		{"an edited configuration is a candidate; the active version routes",
			[]Version{{ID: 1, Status: StatusActive, Source: SourceConfig, Table: table("a", "b")}}, table("b", "a"), models, 1, 2},
		{"a learned active version routes over the configured one",
			[]Version{{ID: 1, Status: StatusRetired, Source: SourceConfig, Table: table("a", "b")}, {ID: 2, Status: StatusActive, Source: "learner", Table: table("b", "a")}},
			table("a", "b"), models, 2, 2},
		{"an active version naming a dropped model gives way to the configured table",
			[]Version{{ID: 1, Status: StatusActive, Source: SourceConfig, Table: table("a", "b")}}, bOnly, onlyB, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &versionMem{versions: append([]Version(nil), tt.stored...)}
			v, err := StartVersion(context.Background(), st, tt.configured, tt.models, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if v.ID != tt.wantID || len(st.versions) != tt.wantStored {
				t.Errorf("routes by version %d with %d stored, want %d with %d", v.ID, len(st.versions), tt.wantID, tt.wantStored)
			}
			if err := v.Table.Validate(tt.models); err != nil {
				t.Errorf("the version it routes by cannot be served: %v", err)
			}
			if last := st.versions[len(st.versions)-1]; len(st.versions) > len(tt.stored) && len(tt.stored) > 0 &&
				(last.Status != StatusCandidate || last.Source != SourceConfig || !last.Table.Equal(tt.configured)) {
				t.Errorf("stored %+v, want a config candidate with the configured table", last)
			}
		})
	}
}
