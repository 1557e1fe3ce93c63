"""tracemix probes."""
