//go:build !unix

package loadtest

func ensureOpenFiles(int) error { return nil }
