"""Rendering of problems, plans and reports: text, JSON, Markdown and GitHub annotations.

Renderers are pure: values in, strings out. The CLI decides where they are written.
"""
