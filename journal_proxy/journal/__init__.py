"""The journal: export-format entries parsed and verified, systemd's lifecycle, one invocation's lines merged and numbered."""
