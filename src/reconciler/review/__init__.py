"""Review in git and GitHub: git history and notes, the GitHub client, the approval gate."""
