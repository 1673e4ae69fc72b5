"""Cross-cutting web security: response headers and /.well-known/security.txt.

An installed app without models: a middleware, one view, and ``tepat integrity`` (the
release manifest of the deployed files and the cloaking probe).
"""
