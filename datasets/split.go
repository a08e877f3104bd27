package datasets

import "hash/fnv"

// Split names.
const (
	SplitTrain = "train"
	SplitTest  = "test"
)

// FixedSplit reports whether items fix their own train/test split: some
// are "train" and some "test". A file with only one of them (or none)
// fixes nothing, and every item is placed by SplitOf's hash.
func FixedSplit(items []Item) bool {
	train, test := false, false
	for i := range items {
		train = train || items[i].Split == SplitTrain
		test = test || items[i].Split == SplitTest
	}
	return train && test
}

// SplitOf places it in SplitTrain or SplitTest: by its own Split when
// fixed (see FixedSplit) and it has one, else by a seeded hash of its id,
// in train with probability trainFrac. The hash keeps an item on the same
// side whatever else the file holds (a --source filter, a --limit), so a
// replay of the train part and an eval of the test part never share a
// prompt. This is the one place items are split: replay, eval and the
// learner's measurements all call it.
func SplitOf(it *Item, fixed bool, trainFrac float64, seed uint64) string {
	if fixed && (it.Split == SplitTrain || it.Split == SplitTest) {
		return it.Split
	}
	if Unit(it.ID, seed) < trainFrac {
		return SplitTrain
	}
	return SplitTest
}

// Split partitions items into train and test by SplitOf, keeping their
// order.
func Split(items []Item, trainFrac float64, seed uint64) (train, test []Item) {
	fixed := FixedSplit(items)
	for i := range items {
		if SplitOf(&items[i], fixed, trainFrac, seed) == SplitTrain {
			train = append(train, items[i])
		} else {
			test = append(test, items[i])
		}
	}
	return train, test
}

// Unit maps id to a number in [0, 1), uniformly and the same way on
// every run: a seeded FNV-1a hash of id through a bit mixer. FNV alone
// leaves similar ids ("id-1", "id-2") with similar high bits; the
// finaliser spreads them uniformly. SplitOf and the learner's request
// folds use it; callers that must not correlate with each other use
// different seeds. (The learner's prompt hold-out and eval's CrossFit
// still hash with FNV alone: moving them would move prompts between
// sides.)
func Unit(id string, seed uint64) float64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return float64(mix64(h.Sum64()^mix64(seed))>>11) / (1 << 53)
}

// mix64 is SplitMix64's finaliser, a bijective bit mixer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
