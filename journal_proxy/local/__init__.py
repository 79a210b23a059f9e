"""Local journals, gatewayd and proxy processes, for the tests, benches and demo."""
