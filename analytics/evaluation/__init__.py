"""Research tools: NAB scorer, simulator evaluation, CSV scoring (never imported live)."""
