"""Image work in plain Python: no database, no Django models, testable on bytes alone."""
