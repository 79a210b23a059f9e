"""The built-in demo: a real journal and gatewayd with runs that look like deploys."""
