"""The `servitize detect` runtime: feed, loop, findings, replay and the model store."""
