package datasets

import (
	"fmt"
	"testing"
)

func splitItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{ID: fmt.Sprint("id-", i)}
	}
	return items
}

func TestSplitHashed(t *testing.T) {
	items := splitItems(1000)
	train, test := Split(items, 0.3, 7)
	if len(train)+len(test) != len(items) {
		t.Fatalf("train %d + test %d != %d", len(train), len(test), len(items))
	}
	if len(train) < 240 || len(train) > 360 {
		t.Errorf("train = %d of 1000 at 0.3, want about 300", len(train))
	}
	again, _ := Split(items, 0.3, 7)
	for i := range train {
		if again[i].ID != train[i].ID {
			t.Fatal("the split is not deterministic for a seed")
		}
	}
	other, _ := Split(items, 0.3, 8)
	same := len(other) == len(train)
	for i := 0; same && i < len(train); i++ {
		same = other[i].ID == train[i].ID
	}
	if same {
		t.Error("seeds 7 and 8 give the same split")
	}
	// An item's side does not depend on the rest of the file.
	sub, _ := Split(items[:100], 0.3, 7)
	want := map[string]bool{}
	for _, it := range train {
		want[it.ID] = true
	}
	for _, it := range sub {
		if !want[it.ID] {
			t.Errorf("%s is train in a subset but not in the whole", it.ID)
		}
	}
}

func TestSplitFixed(t *testing.T) {
	tests := []struct {
		name   string
		splits []string
		want   []string
	}{
		// Both present: items keep their own; the unmarked one is hashed.
		{"fixed", []string{"test", "train", "train"}, []string{"test", "train", "train"}},
		// Only "train": nothing is fixed, every item is hashed, so at
		// frac 0 all are test.
		{"one side only", []string{"train", "train", ""}, []string{"test", "test", "test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := splitItems(len(tt.splits))
			for i, s := range tt.splits {
				items[i].Split = s
			}
			fixed := FixedSplit(items)
			for i := range items {
				if got := SplitOf(&items[i], fixed, 0, 1); got != tt.want[i] {
					t.Errorf("item %d (split %q) = %s, want %s", i, tt.splits[i], got, tt.want[i])
				}
			}
		})
	}
}
