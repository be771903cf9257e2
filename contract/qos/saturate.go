package qos

// satAdd is a + b, saturating at the type's maximum: the stats and
// counters are figures, never money, and must not wrap (issue 13).
func satAdd[T ~uint64 | ~uint32](a, b T) T {
	if s := a + b; s >= a {
		return s
	}
	var m T
	return m - 1
}

// satSub is a - b, floored at zero.
func satSub[T ~uint64 | ~uint32](a, b T) T {
	if b > a {
		return 0
	}
	return a - b
}

// satDelta applies the change from old to nw to a total, saturating.
func satDelta(total, old, nw uint64) uint64 {
	if nw >= old {
		return satAdd(total, nw-old)
	}
	return satSub(total, old-nw)
}
