"""The benchmark behind `make bench` (issue 5): dev tooling, never shipped in the artifact."""
