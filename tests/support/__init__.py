"""What every test folder shares: a repository builder, the expert, sandbox fixtures.

Importable as ``support`` (pytest's ``pythonpath`` puts tests/ on the path).
"""
