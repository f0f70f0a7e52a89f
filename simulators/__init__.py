"""Device simulators: robots, slope, bridge and pump monitors with injected faults and labels."""
