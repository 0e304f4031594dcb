"""Local development host: runs function_app.py without Azure Functions Core Tools (never deployed)."""
