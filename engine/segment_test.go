package engine

import "testing"

func TestSegmentOwnsAndCheck(t *testing.T) {
	for _, c := range []struct {
		s    Segment
		ok   bool
		owns []int
	}{
		{Segment{}, true, []int{0, 1, 2, 3, 4, 5}},
		{Segment{0, 1}, true, []int{0, 1, 2, 3, 4, 5}},
		{Segment{1, 3}, true, []int{1, 4}},
		{Segment{2, 3}, true, []int{2, 5}},
		{Segment{3, 3}, false, nil},
		{Segment{-1, 3}, false, nil},
		{Segment{0, -1}, false, nil},
		{Segment{1, 0}, false, nil},
	} {
		if err := c.s.Check(); (err == nil) != c.ok {
			t.Errorf("%+v.Check() = %v, want ok %v", c.s, err, c.ok)
			continue
		}
		if !c.ok {
			continue
		}
		var got []int
		for i := range 6 {
			if c.s.Owns(i) {
				got = append(got, i)
			}
		}
		if len(got) != len(c.owns) {
			t.Errorf("%v owns %v of 0..5, want %v", c.s, got, c.owns)
			continue
		}
		for i := range got {
			if got[i] != c.owns[i] {
				t.Errorf("%v owns %v of 0..5, want %v", c.s, got, c.owns)
				break
			}
		}
	}
}
