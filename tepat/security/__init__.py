"""Cross-cutting web security: response headers and /.well-known/security.txt.

Not an installed app: it has no models or templates, only a middleware and one view.
"""
