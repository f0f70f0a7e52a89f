"""Pure streaming detectors: plain numpy in, verdicts out, no I/O."""
