"""tracemix training."""
