"""Fleet: downlink commands, device twins, firmware packages and staged update campaigns."""
