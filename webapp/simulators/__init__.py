"""Simulators of Relais's peers: real HTTP servers on 127.0.0.1 for `relais serve --demo`, the tests
and the benchmarks (no mocks: the client code under test speaks real HTTP to them)."""
