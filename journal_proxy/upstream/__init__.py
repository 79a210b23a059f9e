"""The upstream: gatewayd's client over our HTTP/1.1 (connection, pool, framing), and locating a log across several gatewayds."""
