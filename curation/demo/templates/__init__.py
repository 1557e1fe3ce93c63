"""Templates and vocabulary for the embedded demo corpus (`tracemix demo-data`)."""
