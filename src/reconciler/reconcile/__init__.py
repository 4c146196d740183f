"""Desired x observed -> plan -> platform.

The diff (pure), typed changes, plan ordering and policies, apply.
"""
