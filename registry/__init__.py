"""Registry domain: tenants, sites, device types with their metric catalog, devices."""
