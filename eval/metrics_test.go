package eval

import (
	"math"
	"reflect"
	"testing"
)

const eps = 1e-12

func TestAPGRAndCPT(t *testing.T) {
	// Weak 0.5, strong 0.9, one router point at (0.5, 0.8). With the ends
	// added the area is 0.5(0.5+0.8)/2 + 0.5(0.8+0.9)/2 = 0.75, so APGR
	// = (0.75-0.5)/0.4 = 0.625. 50% of the gap is quality 0.7, reached at
	// x = 0.5(0.2/0.3) = 1/3; 80% is 0.82, at 0.5 + 0.5(0.02/0.1) = 0.6.
	pts := []Point{{0.5, 0.8}, {1.5, 1}} // the second is off the axis: ignored
	if got, ok := APGR(pts, 0.5, 0.9); !ok || math.Abs(got-0.625) > eps {
		t.Errorf("APGR = %v, %v; want 0.625", got, ok)
	}
	if got, ok := CPT(pts, 0.5, 0.9, 0.5); !ok || math.Abs(got-1.0/3) > eps {
		t.Errorf("CPT(50%%) = %v, %v; want 1/3", got, ok)
	}
	if got, ok := CPT(pts, 0.5, 0.9, 0.8); !ok || math.Abs(got-0.6) > eps {
		t.Errorf("CPT(80%%) = %v, %v; want 0.6", got, ok)
	}
	// Random routing lies on the diagonal: APGR 0.5, CPT(x) = x.
	diag := []Point{{0.25, 0.6}, {0.5, 0.7}, {0.75, 0.8}}
	if got, _ := APGR(diag, 0.5, 0.9); math.Abs(got-0.5) > eps {
		t.Errorf("APGR(diagonal) = %v, want 0.5", got)
	}
	if got, _ := CPT(diag, 0.5, 0.9, 0.8); math.Abs(got-0.8) > eps {
		t.Errorf("CPT(diagonal, 80%%) = %v, want 0.8", got)
	}
	// A router already at 0.8 with no strong calls needs none for 50%.
	if got, ok := CPT([]Point{{0, 0.8}}, 0.5, 0.9, 0.5); !ok || got != 0 {
		t.Errorf("CPT(start above) = %v, %v; want 0", got, ok)
	}
	if _, ok := APGR(pts, 0.9, 0.9); ok {
		t.Error("APGR with no gap: ok, want not ok")
	}
}

func TestAIQ(t *testing.T) {
	// Points (1,.5) (2,.8) (3,.6) (4,.9) (5,.7) over cost [1, 5]. The
	// upper hull is (1,.5) (2,.8) (4,.9) (5,.7); cut where it stops
	// rising and held flat: area 0.65 + 1.7 + 0.9 = 3.25, over 4: 0.8125.
	pts := []Point{{3, 0.6}, {1, 0.5}, {5, 0.7}, {2, 0.8}, {4, 0.9}}
	if got, want := NondecreasingHull(pts), []Point{{1, 0.5}, {2, 0.8}, {4, 0.9}}; !reflect.DeepEqual(got, want) {
		t.Errorf("NondecreasingHull = %v, want %v", got, want)
	}
	if got, ok := AIQ(pts, 1, 5); !ok || math.Abs(got-0.8125) > eps {
		t.Errorf("AIQ = %v, %v; want 0.8125", got, ok)
	}
	// Below the cheapest point the hull counts zero (RouterBench): one
	// point at (2, 0.6) over [0, 4] covers half the range.
	if got, _ := AIQ([]Point{{2, 0.6}}, 0, 4); math.Abs(got-0.3) > eps {
		t.Errorf("AIQ(single point) = %v, want 0.3", got)
	}
	if _, ok := AIQ(pts, 2, 2); ok {
		t.Error("AIQ over an empty range: ok, want not ok")
	}
}

func TestMixShare(t *testing.T) {
	for _, tt := range []struct{ target, weak, strong, want float64 }{
		{0.022, 0.004, 0.04, 0.5},
		{1, 2, 4, 0},
		{5, 2, 4, 1},
	} {
		if got := mixShare(tt.target, tt.weak, tt.strong); math.Abs(got-tt.want) > eps {
			t.Errorf("mixShare(%v, %v, %v) = %v, want %v", tt.target, tt.weak, tt.strong, got, tt.want)
		}
	}
}
