"""Hostile-input fuzzing of the app through the dev host (`make fuzz`): strategies, the harness and its command."""
