"""The repository's files -> desired state.

Loading with file:line:col, the site rules, config, people, the writer.
"""
