"""Task files (one YAML per task) and suites.yaml; read by eval.registry."""
