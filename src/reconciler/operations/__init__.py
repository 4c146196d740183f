"""One object per command.

Each opens the repository and the platform, runs, and returns a result to render.
"""
