// Package integration holds tests that run a host and a viewer together in
// one process, over real QUIC on loopback, where the test needs to reach
// inside both (a shaped link, a custom screen source). It has no code of
// its own; host and viewer still never import each other.
package integration
