//go:build !linux

package storage

import "time"

// Without Linux user xattrs, List reads every object's trailer.

const maxListAttr = 2048

func setListAttr(string, localTrailer, time.Time) {}

func getListAttr(string, []byte) (localTrailer, time.Time, bool) {
	return localTrailer{}, time.Time{}, false
}

func removeListAttr(string) error { return nil }
