"""tracemix curation."""
