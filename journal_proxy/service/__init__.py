"""Running it: the server, socket activation and sd_notify, the proxy's own log."""
