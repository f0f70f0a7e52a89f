"""Field service: work orders from alerts and requests, contracts with SLA clocks, billing."""
