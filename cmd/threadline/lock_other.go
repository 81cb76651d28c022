//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package main

// lockServe does nothing where flock is not at hand: keep to one server per database file there yourself.
func lockServe(string) (func(), error) { return func() {}, nil }
