"""tracemix eval."""
